#include "s3/s3error.h"

#include <cstring>
#include <map>

namespace castline::s3 {

bool
S3Error::retryable () const
{
  if (http_status == 0)
    return true;
  if (http_status >= 500 || http_status == 429 || http_status == 408)
    return true;
  return code == "SlowDown" || code == "RequestTimeout"
      || code == "RequestTimeTooSkewed" || code == "InternalError";
}

std::string
S3Error::describe () const
{
  std::string out = "S3 " + (code.empty () ? std::string ("error") : code);
  if (http_status)
    out += " (HTTP " + std::to_string (http_status) + ")";
  if (!message.empty ())
    out += ": " + message;
  std::string where;
  if (!bucket.empty ())
    where += "bucket " + bucket;
  if (!key.empty ())
    where += (where.empty () ? "" : ", ") + std::string ("key ") + key;
  if (!where.empty ())
    out += " [" + where + "]";
  return out;
}

std::string
S3Error::request_note () const
{
  return request_id.empty () ? "no S3 request id" : "S3 request id " + request_id;
}

namespace {

/* Collects the text of the top-level children of the root element. */
struct XmlCollect {
  int depth = 0;
  std::string root;
  std::string current;
  std::map<std::string, std::string> fields;
  const char *want_first = nullptr;  /* any depth: first element of this name */
  std::string first_text;
  bool in_first = false;
  bool first_done = false;
};

void
on_start (GMarkupParseContext *, const gchar * name, const gchar **,
    const gchar **, gpointer data, GError **)
{
  auto *c = static_cast<XmlCollect *> (data);
  if (c->depth == 0)
    c->root = name;
  else if (c->depth == 1)
    c->current = name;
  if (c->want_first && !c->first_done && !c->in_first
      && strcmp (name, c->want_first) == 0)
    c->in_first = true;
  c->depth++;
}

void
on_end (GMarkupParseContext *, const gchar * name, gpointer data, GError **)
{
  auto *c = static_cast<XmlCollect *> (data);
  c->depth--;
  if (c->depth == 1)
    c->current.clear ();
  if (c->in_first && strcmp (name, c->want_first) == 0) {
    c->in_first = false;
    c->first_done = true;
  }
}

void
on_text (GMarkupParseContext *, const gchar * text, gsize len, gpointer data,
    GError **)
{
  auto *c = static_cast<XmlCollect *> (data);
  if (c->depth == 2 && !c->current.empty ())
    c->fields[c->current].append (text, len);
  if (c->in_first)
    c->first_text.append (text, len);
}

bool
parse_xml (const char *body, gsize len, XmlCollect & c)
{
  if (!body || len == 0)
    return false;
  /* GMarkup does not accept the <?xml ...?> declaration's absence of a root
   * problem, but it does accept the declaration itself (as passthrough). */
  static const GMarkupParser parser = { on_start, on_end, on_text, nullptr, nullptr };
  GMarkupParseContext *ctx = g_markup_parse_context_new (&parser,
      (GMarkupParseFlags) 0, &c, nullptr);
  GError *err = nullptr;
  bool ok = g_markup_parse_context_parse (ctx, body, (gssize) len, &err)
      && g_markup_parse_context_end_parse (ctx, &err);
  g_markup_parse_context_free (ctx);
  g_clear_error (&err);
  return ok || !c.root.empty ();
}

}  // namespace

bool
parse_s3_error_xml (const char *body, gsize len, S3Error & error)
{
  XmlCollect c;
  if (!parse_xml (body, len, c) || c.root != "Error")
    return false;
  auto take = [&] (const char *name, std::string & into) {
    auto it = c.fields.find (name);
    if (it != c.fields.end () && !it->second.empty ())
      into = it->second;
  };
  take ("Code", error.code);
  take ("Message", error.message);
  take ("Key", error.key);
  take ("BucketName", error.bucket);
  take ("RequestId", error.request_id);
  return true;
}

std::string
xml_first_element_text (const char *body, gsize len, const char *element)
{
  XmlCollect c;
  c.want_first = element;
  parse_xml (body, len, c);
  return c.first_text;
}

std::string
xml_escape (const std::string & text)
{
  g_autofree gchar *escaped = g_markup_escape_text (text.c_str (), (gssize) text.size ());
  return escaped;
}

}  // namespace castline::s3
