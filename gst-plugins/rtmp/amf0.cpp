#include "rtmp/amf0.h"

#include <cstring>

namespace castline::rtmp {

namespace {

enum Marker : uint8_t {
  kNumber = 0x00, kBoolean = 0x01, kString = 0x02, kObject = 0x03, kMovieClip = 0x04,
  kNull = 0x05, kUndefined = 0x06, kReference = 0x07, kEcmaArray = 0x08, kObjectEnd = 0x09,
  kStrictArray = 0x0a, kDate = 0x0b, kLongString = 0x0c, kUnsupported = 0x0d,
  kRecordSet = 0x0e, kXmlDocument = 0x0f, kTypedObject = 0x10, kAvmPlus = 0x11,
};

struct Decoder {
  const uint8_t *data;
  size_t size;
  size_t pos;
  unsigned max_depth;
  size_t values_left = kAmfMaxValues;
  std::string error;

  Decoder (const uint8_t * d, size_t n, size_t at, unsigned depth)
      : data (d), size (n), pos (at < n ? at : n), max_depth (depth) {}

  bool fail (const std::string & what)
  {
    if (error.empty ())
      error = what + " at byte " + std::to_string (pos);
    return false;
  }

  bool need (size_t n)
  {
    if (size - pos < n)
      return fail ("truncated AMF0 value");
    return true;
  }

  uint32_t be (size_t n)
  {
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++)
      v = (v << 8) | data[pos + i];
    pos += n;
    return v;
  }

  bool read_double (double & d)
  {
    if (!need (8))
      return false;
    uint64_t bits = 0;
    for (int i = 0; i < 8; i++)
      bits = (bits << 8) | data[pos + i];
    pos += 8;
    memcpy (&d, &bits, sizeof d);
    return true;
  }

  bool read_utf8 (size_t len_bytes, std::string & s)
  {
    if (!need (len_bytes))
      return false;
    uint32_t len = be (len_bytes);
    if (!need (len))
      return false;
    s.assign ((const char *) data + pos, len);
    pos += len;
    return true;
  }

  /* properties until the empty name and the object-end marker */
  bool read_properties (unsigned depth, std::vector<std::pair<std::string, AmfValue>> & props)
  {
    for (;;) {
      std::string name;
      if (!read_utf8 (2, name))
        return false;
      if (name.empty ()) {
        if (!need (1))
          return false;
        if (data[pos] == kObjectEnd) {
          pos++;
          return true;
        }
      }
      AmfValue v;
      if (!read_value (depth + 1, v))
        return false;
      props.emplace_back (std::move (name), std::move (v));
    }
  }

  bool read_value (unsigned depth, AmfValue & v)
  {
    if (depth > max_depth)
      return fail ("AMF0 nesting deeper than " + std::to_string (max_depth));
    if (values_left == 0)
      return fail ("more than " + std::to_string (kAmfMaxValues) + " AMF0 values");
    values_left--;
    if (!need (1))
      return false;
    uint8_t marker = data[pos++];
    switch (marker) {
      case kNumber:
        v.type = AmfType::Number;
        return read_double (v.number);
      case kBoolean:
        if (!need (1))
          return false;
        v.type = AmfType::Boolean;
        v.boolean = data[pos++] != 0;
        return true;
      case kString:
        v.type = AmfType::String;
        return read_utf8 (2, v.string);
      case kLongString:
      case kXmlDocument:
        v.type = AmfType::String;
        return read_utf8 (4, v.string);
      case kNull:
        v.type = AmfType::Null;
        return true;
      case kUndefined:
      case kUnsupported:
        v.type = AmfType::Undefined;
        return true;
      case kObject:
        v.type = AmfType::Object;
        return read_properties (depth, v.properties);
      case kTypedObject: {
        std::string class_name;
        if (!read_utf8 (2, class_name))
          return false;
        v.type = AmfType::Object;
        return read_properties (depth, v.properties);
      }
      case kEcmaArray:
        /* the count is a hint only (encoders get it wrong): the
         * properties end with the object-end marker as an object's do */
        if (!need (4))
          return false;
        pos += 4;
        v.type = AmfType::EcmaArray;
        return read_properties (depth, v.properties);
      case kStrictArray: {
        if (!need (4))
          return false;
        uint32_t count = be (4);
        v.type = AmfType::StrictArray;
        /* every element takes at least one byte: no reserve from the count */
        for (uint32_t i = 0; i < count; i++) {
          AmfValue e;
          if (!read_value (depth + 1, e))
            return false;
          v.elements.push_back (std::move (e));
        }
        return true;
      }
      case kDate:
        v.type = AmfType::Date;
        if (!read_double (v.number) || !need (2))
          return false;
        pos += 2;
        return true;
      case kObjectEnd:
        return fail ("AMF0 object end outside an object");
      case kReference:
      case kMovieClip:
      case kRecordSet:
      case kAvmPlus:
      default:
        pos--;
        return fail ("unsupported AMF0 marker " + std::to_string (marker));
    }
  }
};

void
put_be (std::string & out, uint32_t v, int n)
{
  for (int i = n - 1; i >= 0; i--)
    out.push_back ((char) ((v >> (8 * i)) & 0xff));
}

void
put_double (std::string & out, double d)
{
  uint64_t bits;
  memcpy (&bits, &d, sizeof bits);
  for (int i = 7; i >= 0; i--)
    out.push_back ((char) ((bits >> (8 * i)) & 0xff));
}

void
put_name (std::string & out, const std::string & s)
{
  size_t len = s.size () > 0xffff ? 0xffff : s.size ();
  put_be (out, (uint32_t) len, 2);
  out.append (s, 0, len);
}

void
put_properties (std::string & out, const std::vector<std::pair<std::string, AmfValue>> & props)
{
  for (const auto & p : props) {
    put_name (out, p.first);
    amf0_encode (out, p.second);
  }
  out.append ("\x00\x00\x09", 3);
}

}  // namespace

AmfValue
AmfValue::make_number (double n)
{
  AmfValue v;
  v.type = AmfType::Number;
  v.number = n;
  return v;
}

AmfValue
AmfValue::make_boolean (bool b)
{
  AmfValue v;
  v.type = AmfType::Boolean;
  v.boolean = b;
  return v;
}

AmfValue
AmfValue::make_string (std::string s)
{
  AmfValue v;
  v.type = AmfType::String;
  v.string = std::move (s);
  return v;
}

AmfValue
AmfValue::make_null ()
{
  AmfValue v;
  v.type = AmfType::Null;
  return v;
}

AmfValue
AmfValue::make_undefined ()
{
  return AmfValue ();
}

AmfValue
AmfValue::make_object (std::vector<std::pair<std::string, AmfValue>> props)
{
  AmfValue v;
  v.type = AmfType::Object;
  v.properties = std::move (props);
  return v;
}

const AmfValue *
AmfValue::get (const std::string & key) const
{
  for (const auto & p : properties)
    if (p.first == key)
      return &p.second;
  return nullptr;
}

std::string
AmfValue::get_string (const std::string & key, const std::string & fallback) const
{
  const AmfValue *v = get (key);
  return v && v->is_string () ? v->string : fallback;
}

double
AmfValue::get_number (const std::string & key, double fallback) const
{
  const AmfValue *v = get (key);
  return v && v->is_number () ? v->number : fallback;
}

bool
amf0_decode (const uint8_t * data, size_t size, size_t * offset, unsigned max_depth,
    AmfValue & value, std::string * error)
{
  Decoder d (data, size, *offset, max_depth);
  if (!d.read_value (0, value)) {
    if (error)
      *error = d.error;
    return false;
  }
  *offset = d.pos;
  return true;
}

bool
amf0_decode_all (const uint8_t * data, size_t size, unsigned max_depth,
    std::vector<AmfValue> & values, std::string * error)
{
  Decoder d (data, size, 0, max_depth);
  while (d.pos < size) {
    AmfValue v;
    if (!d.read_value (0, v)) {
      if (error)
        *error = d.error;
      return false;
    }
    values.push_back (std::move (v));
  }
  return true;
}

void
amf0_encode (std::string & out, const AmfValue & v)
{
  switch (v.type) {
    case AmfType::Number:
      out.push_back (kNumber);
      put_double (out, v.number);
      break;
    case AmfType::Boolean:
      out.push_back (kBoolean);
      out.push_back (v.boolean ? 1 : 0);
      break;
    case AmfType::String:
      if (v.string.size () > 0xffff) {
        out.push_back (kLongString);
        put_be (out, (uint32_t) v.string.size (), 4);
        out.append (v.string);
      } else {
        out.push_back (kString);
        put_name (out, v.string);
      }
      break;
    case AmfType::Object:
      out.push_back (kObject);
      put_properties (out, v.properties);
      break;
    case AmfType::EcmaArray:
      out.push_back (kEcmaArray);
      put_be (out, (uint32_t) v.properties.size (), 4);
      put_properties (out, v.properties);
      break;
    case AmfType::StrictArray:
      out.push_back (kStrictArray);
      put_be (out, (uint32_t) v.elements.size (), 4);
      for (const auto & e : v.elements)
        amf0_encode (out, e);
      break;
    case AmfType::Date:
      out.push_back (kDate);
      put_double (out, v.number);
      out.append ("\x00\x00", 2);
      break;
    case AmfType::Null:
      out.push_back (kNull);
      break;
    case AmfType::Undefined:
      out.push_back (kUndefined);
      break;
  }
}

}  // namespace castline::rtmp
