/* castline tests: comparing std::strings in gst-check tests. */
#pragma once

#include <gst/check/gstcheck.h>

#include <string>

/* fail_unless_equals_string keeps a pointer into its argument: a
 * temporary std::string would be gone before the comparison */
#define expect_equal(got, want) G_STMT_START { \
    std::string got_ = (got), want_ = (want); \
    fail_unless (got_ == want_, "'%s' is not '%s'", got_.c_str (), want_.c_str ()); \
  } G_STMT_END
