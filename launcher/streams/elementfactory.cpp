#include "streams/elementfactory.h"

namespace castline::launcher {

std::string
missing_elements_reason (const std::vector<std::string> & factories)
{
  std::string list;
  for (const std::string & f : factories)
    list += (list.empty () ? "'" : ", '") + f + "'";
  return std::string ("missing GStreamer element") + (factories.size () == 1 ? " " : "s ") + list
      + " (is its plugin on the plugin path?)";
}

GstElement *
make_element (const char *factory, const char *name, std::string & error)
{
  g_autoptr (GstElementFactory) f = gst_element_factory_find (factory);
  if (!f) {
    error = missing_elements_reason ({ factory });
    return nullptr;
  }
  GstElement *e = gst_element_factory_create (f, name);
  if (!e)
    error = std::string ("GStreamer element '") + factory + "' cannot be made";
  return e;
}

GstElement *
parse_graph (const std::string & text, bool as_bin, std::string & error)
{
  GError *err = nullptr;
  GstParseContext *ctx = gst_parse_context_new ();
  GstElement *e = as_bin
      ? gst_parse_bin_from_description_full (text.c_str (), TRUE, ctx,
          GST_PARSE_FLAG_FATAL_ERRORS, &err)
      : gst_parse_launch_full (text.c_str (), ctx, GST_PARSE_FLAG_FATAL_ERRORS, &err);
  gchar **missing = gst_parse_context_get_missing_elements (ctx);
  if (missing && missing[0]) {
    std::vector<std::string> names;
    for (gchar **m = missing; *m; m++)
      names.push_back (*m);
    error = missing_elements_reason (names);
  } else if (err || !e) {
    error = std::string ("the graph does not build: ") + (err ? err->message : "?");
  }
  g_strfreev (missing);
  gst_parse_context_free (ctx);
  g_clear_error (&err);
  if (!error.empty () && e) {
    gst_object_unref (gst_object_ref_sink (e));
    e = nullptr;
  }
  if (e && !as_bin && g_object_is_floating (e))
    gst_object_ref_sink (e);        /* the caller owns the pipeline */
  return e;
}

void
post_error (GstElement * where, const std::string & reason)
{
  GST_WARNING_OBJECT (where, "%s", reason.c_str ());
  GError *e = g_error_new_literal (GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN, reason.c_str ());
  gst_element_post_message (where, gst_message_new_error (GST_OBJECT (where), e, nullptr));
  g_error_free (e);
}

std::vector<std::string>
missing_factories (const std::vector<std::string> & names)
{
  std::vector<std::string> missing;
  for (const std::string & n : names) {
    g_autoptr (GstElementFactory) f = gst_element_factory_find (n.c_str ());
    if (!f)
      missing.push_back (n);
  }
  return missing;
}

std::vector<std::string>
missing_in_graph (const std::string & text)
{
  GstParseContext *ctx = gst_parse_context_new ();
  GError *err = nullptr;
  /* the context names every missing element, not only the first */
  GstElement *e = gst_parse_launch_full (text.c_str (), ctx, GST_PARSE_FLAG_FATAL_ERRORS, &err);
  gchar **missing = gst_parse_context_get_missing_elements (ctx);
  std::vector<std::string> names;
  for (gchar **m = missing; m && *m; m++)
    names.push_back (*m);
  g_strfreev (missing);
  gst_parse_context_free (ctx);
  g_clear_error (&err);
  if (e)
    gst_object_unref (gst_object_ref_sink (e));
  return names;
}

}  // namespace castline::launcher
