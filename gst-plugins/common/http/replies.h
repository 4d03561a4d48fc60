/* castline: the answers routes share (JSON, a JSON error, a line
 * of plain text) and what they read off every request (the Bearer token,
 * the id in a path). */
#pragma once

#include "common/http/message.h"

#include <string>
#include <string_view>

namespace castline::http {

/* a JSON body, never cached */
void reply_json (Response & res, unsigned status, const std::string & json);
/* {"error": reason} */
void reply_error (Response & res, unsigned status, const std::string & reason);
/* a line of plain text, never cached (the file it is about may appear a
 * moment later), nosniff */
void reply_plain_text (Response & res, unsigned status, const char *text);

/* What an error message may say of a client's input: at most 40 bytes of
 * it, every byte that is not printable ASCII as '?', "..." when cut. An
 * answer never echoes long or hostile text. */
std::string excerpt (std::string_view input);

/* The Bearer token of a request, or "". */
std::string bearer_token (const Request & req);

/* The id in /prefix/{id}[/rest]: rest gets what follows; false when the
 * path has no id. */
bool split_path (std::string_view path, std::string_view prefix, std::string & id,
    std::string & rest);

}  // namespace castline::http
