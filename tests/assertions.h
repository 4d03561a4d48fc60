/* castline tests: assertions on std::string values for gst-check tests,
 * whose failures show both texts.
 *
 * Each argument is copied into a std::string first: it may be a
 * std::string, a temporary one or a C string, and gst-check's
 * fail_unless_equals_string would keep a pointer into a temporary that is
 * gone before the comparison. */
#pragma once

#include <gst/check/gstcheck.h>

#include <string>

/* got == want */
#define assert_str_eq(got, want) G_STMT_START { \
    const std::string assert_got_ = (got), assert_want_ = (want); \
    fail_unless (assert_got_ == assert_want_, "'%s' is not '%s'", assert_got_.c_str (), \
        assert_want_.c_str ()); \
  } G_STMT_END

/* part occurs in text */
#define assert_has(text, part) G_STMT_START { \
    const std::string assert_text_ = (text), assert_part_ = (part); \
    fail_unless (assert_text_.find (assert_part_) != std::string::npos, "'%s' is not in:\n%s", \
        assert_part_.c_str (), assert_text_.c_str ()); \
  } G_STMT_END

/* part does not occur in text */
#define assert_lacks(text, part) G_STMT_START { \
    const std::string assert_text_ = (text), assert_part_ = (part); \
    fail_unless (assert_text_.find (assert_part_) == std::string::npos, "'%s' is in:\n%s", \
        assert_part_.c_str (), assert_text_.c_str ()); \
  } G_STMT_END
