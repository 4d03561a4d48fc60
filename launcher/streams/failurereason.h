/* castline-launcher: what a stream's `reason` says when its pipeline
 * failed, from the bus's error message. A write that found no space
 * (ENOSPC, or GStreamer's RESOURCE NO_SPACE_LEFT with its stock text)
 * says so plainly: "the data disk is full (No space left on device)
 * writing segment00004.m4s", the file's name alone (no server path);
 * anything else is "<element>: <message>". */
#pragma once

#include <gst/gst.h>

#include <string>

namespace castline::launcher {

/* msg: a GST_MESSAGE_ERROR */
std::string pipeline_failure_reason (GstMessage * msg);

}  // namespace castline::launcher
