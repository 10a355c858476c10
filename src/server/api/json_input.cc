#include "server/api/json_input.h"

#include <boost/json.hpp>

#include "common/parse.h"
#include "strictjson/strict_json.h"

namespace netledger::server {

namespace json = boost::json;

Status badField(std::string_view field, std::string_view what, const json::value& got) {
  std::string shown = json::serialize(got);
  if (shown.size() > 64) shown = shown.substr(0, 64) + "...";
  return Status::invalidArgument(std::string(field) + ": " + std::string(what) + " (got " + shown +
                                 ")");
}

Result<JsonBody> JsonBody::parse(std::string_view body) {
  if (body.empty()) return Status::invalidArgument("body: empty; a JSON object is required");
  auto parsed = strictjson::parse(body);
  if (!parsed) return parsed.status().withContext("body");
  json::value v = std::move(parsed).value();
  if (!v.is_object()) return badField("body", "must be a JSON object", v);
  return JsonBody(std::move(v.as_object()));
}

Status JsonBody::allowOnly(std::initializer_list<std::string_view> allowed) const {
  for (const auto& kv : object_) {
    bool ok = false;
    for (auto a : allowed) ok |= kv.key() == a;
    if (!ok) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      std::string key(kv.key());
      if (key.size() > 64) key = key.substr(0, 64) + "...";
      return Status::invalidArgument(key + ": unknown field (known: " + list + ")");
    }
  }
  return Status::ok();
}

const json::value* JsonBody::find(std::string_view field) const {
  auto it = object_.find(field);
  return it == object_.end() ? nullptr : &it->value();
}

bool JsonBody::has(std::string_view field) const { return find(field) != nullptr; }
bool JsonBody::isNull(std::string_view field) const {
  auto* v = find(field);
  return v && v->is_null();
}

Result<std::optional<std::string>> JsonBody::optString(std::string_view field,
                                                       std::size_t max) const {
  auto* v = find(field);
  if (!v || v->is_null()) return std::optional<std::string>();
  if (!v->is_string()) return badField(field, "must be a string", *v);
  if (v->as_string().size() > max) {
    return Status::invalidArgument(std::string(field) + ": longer than " + std::to_string(max) +
                                   " characters");
  }
  NL_RETURN_IF_ERROR(refuseControlCharacters(field, v->as_string()));
  return std::optional<std::string>(std::string(v->as_string()));
}

Result<std::string> JsonBody::string(std::string_view field, std::size_t max) const {
  auto s = optString(field, max);
  if (!s) return s.status();
  if (!*s) return Status::invalidArgument(std::string(field) + ": required");
  return **s;
}

Result<std::optional<std::int64_t>> JsonBody::optInt(std::string_view field, std::int64_t min,
                                                     std::int64_t max) const {
  auto* v = find(field);
  if (!v || v->is_null()) return std::optional<std::int64_t>();
  auto outOfRange = [&] {
    return badField(field, "must be " + std::to_string(min) + " to " + std::to_string(max), *v);
  };
  // Integers only as JSON writes them: digits without a fraction or an exponent, which
  // Boost.JSON reads as int64 or uint64. A double is a fraction, an exponent (1e3, and 1e-400,
  // which underflows to 0) or an integer beyond 64 bits: never silently truncated.
  std::int64_t n = 0;
  if (v->is_int64()) {
    n = v->as_int64();
  } else if (v->is_uint64()) {
    if (max < 0 || v->as_uint64() > static_cast<std::uint64_t>(max)) return outOfRange();
    n = static_cast<std::int64_t>(v->as_uint64());
  } else if (v->is_double()) {
    return badField(field, "must be an integer (no fraction or exponent)", *v);
  } else {
    return badField(field, "must be an integer", *v);
  }
  if (n < min || n > max) return outOfRange();
  return std::optional<std::int64_t>(n);
}

Result<std::optional<double>> JsonBody::optDouble(std::string_view field, double min,
                                                  double max) const {
  auto* v = find(field);
  if (!v || v->is_null()) return std::optional<double>();
  if (!v->is_number()) return badField(field, "must be a number", *v);
  double d = v->to_number<double>();
  if (!(d >= min && d <= max)) {
    return badField(field, "must be between " + std::to_string(min) + " and " + std::to_string(max),
                    *v);
  }
  return std::optional<double>(d);
}

Result<std::optional<bool>> JsonBody::optBool(std::string_view field) const {
  auto* v = find(field);
  if (!v || v->is_null()) return std::optional<bool>();
  if (!v->is_bool()) return badField(field, "must be true or false", *v);
  return std::optional<bool>(v->as_bool());
}

Result<std::vector<std::string>> JsonBody::stringArray(std::string_view field,
                                                       std::size_t max_items) const {
  std::vector<std::string> out;
  auto* v = find(field);
  if (!v || v->is_null()) return out;
  if (!v->is_array()) return badField(field, "must be an array of strings", *v);
  if (v->as_array().size() > max_items) {
    return Status::invalidArgument(std::string(field) + ": more than " + std::to_string(max_items) +
                                   " items");
  }
  for (const auto& item : v->as_array()) {
    if (!item.is_string() || item.as_string().size() > 1024) {
      return badField(field, "must be an array of strings", item);
    }
    NL_RETURN_IF_ERROR(refuseControlCharacters(field, item.as_string()));
    out.emplace_back(item.as_string());
  }
  return out;
}

Result<std::optional<addr::IpAddress>> JsonBody::optIp(std::string_view field) const {
  auto s = optString(field, 64);
  if (!s) return s.status();
  if (!*s) return std::optional<addr::IpAddress>();
  auto ip = addr::IpAddress::parse(**s);
  if (!ip) return ip.status().withContext(field);
  return std::optional<addr::IpAddress>(*ip);
}

Result<std::optional<addr::Mac>> JsonBody::optMac(std::string_view field) const {
  auto s = optString(field, 64);
  if (!s) return s.status();
  if (!*s) return std::optional<addr::Mac>();
  auto m = addr::Mac::parse(**s);
  if (!m) return m.status().withContext(field);
  if (m->isMulticast() || m->isZero()) {
    return Status::invalidArgument(std::string(field) + ": " + m->toString() +
                                   " is not a unicast station address");
  }
  return std::optional<addr::Mac>(*m);
}

Result<std::vector<addr::Prefix>> JsonBody::prefixes(std::string_view field) const {
  std::vector<addr::Prefix> out;
  auto* v = find(field);
  if (!v || v->is_null()) return out;
  std::vector<std::string> texts;
  if (v->is_string()) {
    texts.emplace_back(v->as_string());
  } else {
    auto arr = stringArray(field, 64);
    if (!arr) return arr.status();
    texts = *arr;
  }
  for (const auto& t : texts) {
    auto p = addr::Prefix::parse(t);
    if (!p) return p.status().withContext(field);
    out.push_back(*p);
  }
  return out;
}

Result<std::vector<addr::IpRange>> JsonBody::ranges(std::string_view field) const {
  std::vector<addr::IpRange> out;
  auto* v = find(field);
  if (!v || v->is_null()) return out;
  if (!v->is_array()) return badField(field, "must be an array of \"A-B\" or \"A\" strings", *v);
  if (v->as_array().size() > 4096)
    return Status::invalidArgument(std::string(field) + ": too many items");
  for (const auto& item : v->as_array()) {
    // Accept {"start": A, "end": B} as well as "A-B", as NetBox and Kea users write both.
    if (item.is_object()) {
      const auto& o = item.as_object();
      auto s = o.find("start");
      auto e = o.find("end");
      if (s == o.end() || e == o.end() || !s->value().is_string() || !e->value().is_string()) {
        return badField(field, "range objects need string \"start\" and \"end\"", item);
      }
      auto r = addr::IpRange::parse(std::string(s->value().as_string()) + "-" +
                                    std::string(e->value().as_string()));
      if (!r) return r.status().withContext(field);
      out.push_back(*r);
      continue;
    }
    if (!item.is_string()) return badField(field, "items must be \"A-B\" or \"A\" strings", item);
    auto r = addr::IpRange::parse(item.as_string());
    if (!r) return r.status().withContext(field);
    out.push_back(*r);
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> JsonBody::stringMap(
    std::string_view field) const {
  std::vector<std::pair<std::string, std::string>> out;
  auto* v = find(field);
  if (!v || v->is_null()) return out;
  if (!v->is_object()) return badField(field, "must be an object of strings", *v);
  for (const auto& kv : v->as_object()) {
    if (!kv.value().is_string()) {
      return badField(std::string(field) + "." + std::string(kv.key()), "must be a string",
                      kv.value());
    }
    NL_RETURN_IF_ERROR(refuseControlCharacters(field, kv.key()));
    NL_RETURN_IF_ERROR(refuseControlCharacters(std::string(field) + "." + std::string(kv.key()),
                                               kv.value().as_string()));
    out.emplace_back(std::string(kv.key()), std::string(kv.value().as_string()));
  }
  return out;
}

}  // namespace netledger::server
