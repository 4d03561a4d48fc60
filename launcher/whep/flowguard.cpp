#include "whep/flowguard.h"

#include "streams/elementfactory.h"

GST_DEBUG_CATEGORY_EXTERN (castline_webrtcmedia_debug);
#define GST_CAT_DEFAULT castline_webrtcmedia_debug

namespace castline::launcher {

namespace {

/* a streaming thread */
GstFlowReturn
contain (GstPad * pad, GstFlowReturn ret)
{
  if (ret != GST_FLOW_OK)
    GST_LOG_OBJECT (pad, "its branch returned %s: dropped there", gst_flow_get_name (ret));
  return GST_FLOW_OK;
}

GstFlowReturn
guarded_chain (GstPad * pad, GstObject * parent, GstBuffer * buffer)
{
  return contain (pad, gst_proxy_pad_chain_default (pad, parent, buffer));
}

GstFlowReturn
guarded_chain_list (GstPad * pad, GstObject * parent, GstBufferList * list)
{
  return contain (pad, gst_proxy_pad_chain_list_default (pad, parent, list));
}

}  // namespace

GstElement *
make_guarded_queue (const std::string & name, GstElement ** queue, std::string & error)
{
  GstElement *q = make_element ("queue", (name + "_queue").c_str (), error);
  if (!q)
    return nullptr;
  GstElement *bin = gst_bin_new (name.c_str ());
  gst_bin_add (GST_BIN (bin), q);
  g_autoptr (GstPad) q_sink = gst_element_get_static_pad (q, "sink");
  GstPad *sink = gst_ghost_pad_new ("sink", q_sink);
  gst_pad_set_chain_function (sink, guarded_chain);
  gst_pad_set_chain_list_function (sink, guarded_chain_list);
  gst_element_add_pad (bin, sink);
  g_autoptr (GstPad) q_src = gst_element_get_static_pad (q, "src");
  gst_element_add_pad (bin, gst_ghost_pad_new ("src", q_src));
  *queue = q;
  return bin;
}

}  // namespace castline::launcher
