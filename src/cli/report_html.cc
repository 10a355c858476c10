#include "cli/report_html.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "cli/client_support.h"

namespace netledger::cli {

namespace json = boost::json;

namespace {

constexpr const char* kPalette[] = {"#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed",
                                    "#0891b2", "#db2777", "#4b5563", "#65a30d"};
constexpr int kWidth = 720, kHeight = 180, kLeft = 40, kBottom = 20;

std::string escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string text(const json::value& v) { return escape(cellText(v)); }

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

double number(const json::value& v) { return v.is_number() ? v.to_number<double>() : 0.0; }

std::string percent(const json::value& v) {
  return v.is_number() ? fixed(number(v) * 100.0, 1) + "%" : "-";
}

std::string seconds(const json::value& v) {
  if (!v.is_number()) return "-";
  const double s = number(v);
  if (s < 120) return fixed(s, 0) + " s";
  if (s < 7200) return fixed(s / 60, 1) + " min";
  return fixed(s / 3600, 1) + " h";
}

std::string figure(const std::string& path, const std::string& shown) {
  return "<span class=\"fig\" data-figure=\"" + path + "\">" + shown + "</span>";
}

// Stacked bars, one bar per bucket, one colour per series (kind).
void stackedBars(std::ostream& out, const std::string& id, const json::value& by_kind,
                 std::size_t buckets) {
  std::vector<double> totals(buckets, 0);
  if (by_kind.is_object()) {
    for (const auto& [kind, s] : by_kind.as_object()) {
      for (std::size_t i = 0; i < buckets && i < s.as_array().size(); ++i)
        totals[i] += number(s.as_array()[i]);
    }
  }
  const double top = std::max(1.0, *std::max_element(totals.begin(), totals.end()));
  const double bw = static_cast<double>(kWidth - kLeft) / static_cast<double>(buckets);
  const double h = kHeight - kBottom;
  out << "<svg data-chart=\"" << id << "\" viewBox=\"0 0 " << kWidth << " " << kHeight
      << "\" width=\"" << kWidth << "\" height=\"" << kHeight << "\">\n";
  out << "<text x=\"0\" y=\"12\" class=\"axis\">" << fixed(top, 0) << "</text>"
      << "<line x1=\"" << kLeft << "\" y1=\"" << h << "\" x2=\"" << kWidth << "\" y2=\"" << h
      << "\" class=\"axis-line\"/>\n";
  std::vector<double> base(buckets, 0);
  std::size_t colour = 0;
  if (by_kind.is_object()) {
    for (const auto& [kind, s] : by_kind.as_object()) {
      const char* fill = kPalette[colour++ % std::size(kPalette)];
      for (std::size_t i = 0; i < buckets && i < s.as_array().size(); ++i) {
        const double v = number(s.as_array()[i]);
        if (v <= 0) continue;
        const double bh = v / top * (h - 14);
        base[i] += bh;
        out << "<rect data-kind=\"" << escape(kind) << "\" data-bucket=\"" << i
            << "\" data-value=\"" << fixed(v, 0) << "\" x=\"" << fixed(kLeft + i * bw + 1, 1)
            << "\" y=\"" << fixed(h - base[i], 1) << "\" width=\""
            << fixed(std::max(1.0, bw - 2), 1) << "\" height=\"" << fixed(bh, 1) << "\" fill=\""
            << fill << "\"><title>" << escape(kind) << ": " << fixed(v, 0) << "</title></rect>\n";
      }
    }
  }
  out << "</svg>\n<div class=\"legend\">";
  colour = 0;
  if (by_kind.is_object()) {
    for (const auto& [kind, s] : by_kind.as_object()) {
      out << "<span><i style=\"background:" << kPalette[colour++ % std::size(kPalette)] << "\"></i>"
          << escape(kind) << "</span>";
    }
  }
  out << "</div>\n";
}

// One line per pool: utilization (0..1) at each bucket's end.
void utilizationLines(std::ostream& out, const json::array& pools, std::size_t buckets) {
  const double h = kHeight - kBottom;
  const double step = buckets > 1 ? static_cast<double>(kWidth - kLeft) / (buckets - 1) : 0;
  out << "<svg data-chart=\"utilization\" viewBox=\"0 0 " << kWidth << " " << kHeight
      << "\" width=\"" << kWidth << "\" height=\"" << kHeight << "\">\n"
      << "<text x=\"0\" y=\"12\" class=\"axis\">100%</text><line x1=\"" << kLeft << "\" y1=\"" << h
      << "\" x2=\"" << kWidth << "\" y2=\"" << h << "\" class=\"axis-line\"/>\n";
  for (std::size_t p = 0; p < pools.size() && p < 8; ++p) {
    const json::value& series = member(pools[p], "utilization_series");
    if (!series.is_array()) continue;
    out << "<polyline data-pool=\"" << text(member(pools[p], "name"))
        << "\" fill=\"none\" stroke=\"" << kPalette[p % std::size(kPalette)]
        << "\" stroke-width=\"2\" points=\"";
    for (std::size_t i = 0; i < series.as_array().size(); ++i) {
      out << fixed(kLeft + i * step, 1) << ","
          << fixed(h - number(series.as_array()[i]) * (h - 14), 1) << " ";
    }
    out << "\"/>\n";
  }
  out << "</svg>\n<div class=\"legend\">";
  for (std::size_t p = 0; p < pools.size() && p < 8; ++p) {
    out << "<span><i style=\"background:" << kPalette[p % std::size(kPalette)] << "\"></i>"
        << text(member(pools[p], "name")) << "</span>";
  }
  out << "</div>\n";
}

void kindTable(std::ostream& out, const json::value& c) {
  std::map<std::string, std::pair<double, double>> totals;
  for (const char* which : {"opened", "resolved"}) {
    const json::value& m = member(c, which);
    if (!m.is_object()) continue;
    for (const auto& [kind, s] : m.as_object()) {
      double sum = 0;
      for (const auto& v : s.as_array()) sum += number(v);
      (which[0] == 'o' ? totals[kind].first : totals[kind].second) = sum;
    }
  }
  const json::value& by_kind = member(member(c, "time_to_resolve"), "by_kind");
  out << "<table><tr><th>kind</th><th>opened</th><th>resolved</th><th>median to resolve</th>"
         "<th>p95</th></tr>\n";
  for (const auto& [kind, t] : totals) {
    const json::value& d = member(by_kind, kind);
    out << "<tr><td>" << escape(kind) << "</td><td>" << fixed(t.first, 0) << "</td><td>"
        << fixed(t.second, 0) << "</td><td>" << seconds(member(d, "median_s")) << "</td><td>"
        << seconds(member(d, "p95_s")) << "</td></tr>\n";
  }
  out << "</table>\n";
}

void macTable(std::ostream& out, const char* title, const json::value& list) {
  out << "<h3>" << title << "</h3>";
  if (!list.is_array() || list.as_array().empty()) {
    out << "<p>none</p>\n";
    return;
  }
  out << "<table><tr><th>MAC</th><th>conflicts</th><th>sightings</th><th>last seen</th></tr>\n";
  for (const auto& m : list.as_array()) {
    out << "<tr><td>" << text(member(m, "mac")) << "</td><td>" << text(member(m, "conflicts"))
        << "</td><td>" << text(member(m, "count")) << "</td><td>" << text(member(m, "last_seen"))
        << "</td></tr>\n";
  }
  out << "</table>\n";
}

void poolTable(std::ostream& out, const json::array& pools) {
  out << "<table><tr><th>pool</th><th>network</th><th>utilization</th><th>used</th>"
         "<th>allocatable</th><th>allocations/h</th><th>exhausted at</th></tr>\n";
  for (const auto& p : pools) {
    out << "<tr><td>" << text(member(p, "name")) << "</td><td>" << text(member(p, "network"))
        << "</td><td>" << percent(member(p, "utilization")) << "</td><td>"
        << text(member(p, "used")) << "</td><td>" << text(member(p, "allocatable")) << "</td><td>"
        << (member(p, "allocations_per_hour").is_number()
                ? fixed(number(member(p, "allocations_per_hour")), 1)
                : "-")
        << "</td><td>" << text(member(p, "exhaustion_at")) << "</td></tr>\n";
  }
  out << "</table>\n";
}

constexpr const char* kStyle = R"(<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#111;max-width:780px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}h3{font-size:14px}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:140px}
.card b{display:block;font-size:20px}.axis{font-size:11px;fill:#555}.axis-line{stroke:#999}
.legend span{margin-right:12px;font-size:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
table{border-collapse:collapse;margin:8px 0}td,th{border-bottom:1px solid #eee;padding:3px 10px;text-align:left}
</style>)";

void cards(std::ostream& out, const json::value& r) {
  const json::value& sync = member(r, "sync");
  const json::value& c = member(r, "conflicts");
  const json::value& ttr = member(c, "time_to_resolve");
  auto card = [&](const std::string& label, const std::string& fig) {
    out << "<div class=\"card\">" << label << "<b>" << fig << "</b></div>\n";
  };
  out << "<div class=\"cards\">\n";
  card("sync rate (" + text(member(sync, "agreeing")) + " of " + text(member(sync, "observed")) +
           " seen)",
       figure("sync.rate", percent(member(sync, "rate"))));
  card("conflicts opened", figure("conflicts.opened_total", text(member(c, "opened_total"))));
  card("conflicts resolved", figure("conflicts.resolved_total", text(member(c, "resolved_total"))));
  card("open now", figure("conflicts.open_now", text(member(c, "open_now"))));
  card("median to resolve",
       figure("conflicts.time_to_resolve.median_s", seconds(member(ttr, "median_s"))));
  card("p95 to resolve", figure("conflicts.time_to_resolve.p95_s", seconds(member(ttr, "p95_s"))));
  const json::value& probes = member(r, "probes");
  card("probes passed / in use", figure("probes.passed", text(member(probes, "passed"))) + " / " +
                                     figure("probes.in_use", text(member(probes, "in_use"))));
  card("quarantined",
       figure("quarantine.entered", text(member(member(r, "quarantine"), "entered"))));
  card("DHCP declines", figure("declines.count", text(member(member(r, "declines"), "count"))));
  out << "</div>\n";
}

}  // namespace

void writeHealthHtml(std::ostream& out, const json::value& r) {
  const std::size_t buckets =
      member(r, "buckets").is_array() ? member(r, "buckets").as_array().size() : 0;
  out << "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      << "<title>netledger address health " << text(member(r, "from")) << " to "
      << text(member(r, "to")) << "</title>" << kStyle << "</head><body>\n"
      << "<h1>Address health</h1><p>" << text(member(r, "from")) << " to " << text(member(r, "to"))
      << " &middot; buckets of " << text(member(r, "step_s")) << " s &middot; generated "
      << text(member(r, "generated_at")) << "</p>\n";
  cards(out, r);
  const json::value& c = member(r, "conflicts");
  out << "<h2>Conflicts opened</h2>\n";
  stackedBars(out, "conflicts-opened", member(c, "opened"), std::max<std::size_t>(buckets, 1));
  out << "<h2>Conflicts resolved</h2>\n";
  stackedBars(out, "conflicts-resolved", member(c, "resolved"), std::max<std::size_t>(buckets, 1));
  kindTable(out, c);
  const json::value& pools = member(r, "pools");
  static const json::array kNoPools;
  const json::array& list = pools.is_array() ? pools.as_array() : kNoPools;
  out << "<h2>Pool utilization</h2>\n";
  utilizationLines(out, list, std::max<std::size_t>(buckets, 1));
  poolTable(out, list);
  out << "<h2>MACs</h2>\n";
  macTable(out, "flapping", member(member(r, "macs"), "flapping"));
  macTable(out, "drifting", member(member(r, "macs"), "drifting"));
  if (member(r, "truncated").is_bool() && member(r, "truncated").as_bool()) {
    out << "<p><b>The period held more events than one report reads: the trends are partial."
           "</b></p>\n";
  }
  out << "</body></html>\n";
}

}  // namespace netledger::cli
