/* castline-launcher: every element the launcher makes at run time, and the
 * graphs it parses, go through here, so that a missing element (a plugin
 * not on the plugin path) is an error naming it, never a NULL element
 * that GLib's CRITICALs follow. The caller fails what it was making (one
 * stream) with that error; the daemon goes on.
 *
 * The same checks run at start (and with --check) over what the pipeline
 * descriptions, the abr ladder, the ingests and the recordings need:
 * missing_elements. */
#pragma once

#include <gst/gst.h>

#include <string>
#include <vector>

namespace castline::launcher {

/* "missing GStreamer element 'x' (is its plugin on the plugin path?)";
 * several: "missing GStreamer elements 'x', 'y' (...)" */
std::string missing_elements_reason (const std::vector<std::string> & factories);

/* A new element of factory, floating as gst_element_factory_make gives it;
 * nullptr with error naming it when the factory is missing. */
GstElement *make_element (const char *factory, const char *name, std::string & error);

/* A graph in gst-launch-1.0 syntax, parsed with every error fatal: a
 * GstPipeline (as_bin false; owned, not floating) or a GstBin with ghost
 * pads for its unlinked pads (as_bin true; floating). nullptr with error:
 * the missing elements by name, or the parser's message. */
GstElement *parse_graph (const std::string & text, bool as_bin, std::string & error);

/* Posts an ERROR from where (a stream's pipeline or one of its
 * elements) with reason as its message: the stream fails with it, on the
 * main context, like on any error. For what goes wrong on a streaming
 * thread. Any thread. */
void post_error (GstElement * where, const std::string & reason);

/* The factories of names that are not in the registry, in order. */
std::vector<std::string> missing_factories (const std::vector<std::string> & names);

/* The elements a graph in gst-launch-1.0 syntax names that are not in the
 * registry (the graph is parsed, never started). */
std::vector<std::string> missing_in_graph (const std::string & text);

}  // namespace castline::launcher
