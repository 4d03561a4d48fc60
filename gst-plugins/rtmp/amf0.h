/* castline rtmp: AMF0, the value encoding of RTMP commands and metadata.
 *
 * Decoding is strict about bounds (every length is checked against what is
 * left), limits nesting (objects, ECMA and strict arrays, typed objects)
 * to a depth and the number of values one decode may make (a strict array
 * of a million nulls is a few megabytes on the wire but far more in
 * memory), and refuses what RTMP publishers never send: references,
 * AMF3 switches, movie clips, recordsets. */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace castline::rtmp {

enum class AmfType : uint8_t {
  Number = 0x00,
  Boolean = 0x01,
  String = 0x02,       /* also long strings and XML documents once decoded */
  Object = 0x03,       /* also typed objects once decoded */
  Null = 0x05,
  Undefined = 0x06,
  EcmaArray = 0x08,
  StrictArray = 0x0a,
  Date = 0x0b,         /* number: ms since the epoch (the time zone is dropped) */
};

/* The most values one decode makes, whatever their nesting. */
constexpr size_t kAmfMaxValues = 65536;

struct AmfValue {
  AmfType type = AmfType::Undefined;
  double number = 0;
  bool boolean = false;
  std::string string;
  /* Object and EcmaArray: the properties in order; StrictArray: elements */
  std::vector<std::pair<std::string, AmfValue>> properties;
  std::vector<AmfValue> elements;

  static AmfValue make_number (double n);
  static AmfValue make_boolean (bool b);
  static AmfValue make_string (std::string s);
  static AmfValue make_null ();
  static AmfValue make_undefined ();
  static AmfValue make_object (std::vector<std::pair<std::string, AmfValue>> props = {});

  bool is_string () const { return type == AmfType::String; }
  bool is_number () const { return type == AmfType::Number; }
  /* the property `key` of an Object or EcmaArray, nullptr when absent */
  const AmfValue *get (const std::string & key) const;
  /* the property `key` as a string / number, or `fallback` */
  std::string get_string (const std::string & key, const std::string & fallback = "") const;
  double get_number (const std::string & key, double fallback = 0) const;
};

/* Decodes every value in data[0, size). False with *error set when the
 * bytes are not a whole sequence of AMF0 values within the limits. */
bool amf0_decode_all (const uint8_t * data, size_t size, unsigned max_depth,
    std::vector<AmfValue> & values, std::string * error);

/* Decodes one value at *offset, advancing it. */
bool amf0_decode (const uint8_t * data, size_t size, size_t * offset, unsigned max_depth,
    AmfValue & value, std::string * error);

/* Appends the encoding of `value`. Strings over 65535 bytes become long
 * strings. */
void amf0_encode (std::string & out, const AmfValue & value);

}  // namespace castline::rtmp
