/* castline: what went wrong with one S3 request, for a person and for the
 * retry logic. */
#pragma once

#include <glib.h>

#include <string>

namespace castline::s3 {

struct S3Error {
  unsigned http_status = 0;   /* 0: no HTTP response (transport failure, time-out) */
  std::string code;           /* S3's <Code>, or a transport code ("Timeout", "ConnectionFailed") */
  std::string message;        /* S3's <Message> or the transport error text */
  std::string key;            /* S3's <Key>, else the key we asked for */
  std::string bucket;         /* S3's <BucketName> */
  std::string request_id;     /* S3's <RequestId> */

  /* 5xx, 429, SlowDown, RequestTimeout, time-outs and connection failures. */
  bool retryable () const;

  /* "S3 NoSuchBucket (HTTP 404): The specified bucket does not exist [bucket live, key demo/a.ts]" */
  std::string describe () const;

  /* What describe () leaves out, for the debug string of an element
   * message: S3's request id, which a provider asks for ("S3 request id
   * 4442587FB7D0A2F9", or "no S3 request id" when S3 gave none). */
  std::string request_note () const;
};

/* Parses an S3 <Error> XML body; fields absent from the body are left
 * as they were. Returns false when the body is not an S3 error document. */
bool parse_s3_error_xml (const char *body, gsize len, S3Error & error);

/* The text of the first <element>...</element> in an XML document (for
 * <UploadId>, <ETag>, ...); empty when absent. Entities are decoded. */
std::string xml_first_element_text (const char *body, gsize len, const char *element);

/* Escapes &, <, >, " and ' for XML text. */
std::string xml_escape (const std::string & text);

}  // namespace castline::s3
