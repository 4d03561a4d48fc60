/* castline: comparing secrets (stream keys, tokens) without leaking them
 * through timing. */
#pragma once

#include <string>

namespace castline {

/* Constant time in the contents of both (they are hashed first, so not
 * even the length of the expected key leaks). */
bool keys_equal (const std::string & expected, const std::string & offered);

}  // namespace castline
