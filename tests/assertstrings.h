/* Tests: assertions on std::string values with readable failures. */
#pragma once

#include <glib.h>

#include <string>

/* g_assert_cmpstr keeps a pointer into its argument: a temporary
 * std::string would be gone before the comparison */
#define assert_str_eq(got, want) G_STMT_START { \
    std::string got_ = (got), want_ = (want); \
    g_assert_cmpstr (got_.c_str (), ==, want_.c_str ()); \
  } G_STMT_END
#define assert_has(text, part) G_STMT_START { \
    std::string text_ = (text); \
    if (text_.find (part) == std::string::npos) \
      g_error ("'%s' is not in:\n%s", part, text_.c_str ()); \
  } G_STMT_END
#define assert_lacks(text, part) G_STMT_START { \
    std::string text_ = (text); \
    if (text_.find (part) != std::string::npos) \
      g_error ("'%s' is in:\n%s", part, text_.c_str ()); \
  } G_STMT_END
