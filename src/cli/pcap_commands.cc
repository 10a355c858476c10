// `netledger analyze-pcap FILE` and `netledger import-pcap FILE`: the ARP and NDP frames of a
// capture file, judged on their own (and against the ledger with --server), or posted to
// netledgerd as observations. The codecs and the analysis are src/wire; this file reads the
// options, talks to the server and prints.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "addr/network.h"
#include "cli/cli.h"
#include "cli/client_support.h"
#include "cli/output.h"
#include "cli/progress.h"
#include "observation/observation.h"
#include "wire/capture_analyzer.h"
#include "wire/frame_observation.h"
#include "wire/ledger_comparison.h"
#include "wire/pcap_file.h"

namespace netledger::cli {

namespace json = boost::json;

namespace {

// analyze-pcap --fail-on-findings: a finding of severity warning or error was reported.
constexpr int kExitFindings = 3;
// The observation API takes at most this many observations per request.
constexpr std::size_t kMaxBatch = 10'000;
// Progress is drawn for files that take a moment, and redrawn every so many frames.
constexpr std::uint64_t kProgressMinBytes = 64ull << 20;
constexpr std::uint64_t kProgressEveryFrames = 1u << 16;
// GET /v1/bindings page size (the server's maximum).
constexpr int kBindingsPage = 1000;

struct AnalyzeArgs {
  std::string file;
  double window_s = 10;
  std::string network;
  std::size_t examples = 10;
  bool fail_on_findings = false;
};

struct PcapImportArgs {
  std::string file;
  std::string network{addr::kDefaultNetwork};
  std::string host;
  std::string interface;
  std::size_t batch = kMaxBatch;
};

// Draws a progress bar over a capture file by bytes read.
class ReadProgress {
 public:
  ReadProgress(std::ostream& err, const wire::PcapReader& reader)
      : reader_(reader),
        bar_(err, reader.fileSize() / 1024,
             isTerminal(err) && reader.fileSize() >= kProgressMinBytes) {}
  void tick() {
    if (reader_.framesRead() % kProgressEveryFrames == 0) {
      bar_.update(reader_.position() / 1024, reader_.path());
    }
  }
  void clear() { bar_.clear(); }

 private:
  const wire::PcapReader& reader_;
  ProgressBar bar_;
};

json::value timeJson(std::uint64_t us) {
  return us == 0 ? json::value(nullptr) : json::value(observation::formatRfc3339Millis(us));
}

json::value vlanJson(std::uint16_t vlan) {
  return vlan == 0 ? json::value(nullptr) : json::value(vlan);
}

json::object stationJson(const wire::Station& s) {
  return json::object{{"ip", s.ip.toString()},
                      {"mac", s.mac.toString()},
                      {"vlan", vlanJson(s.segment.vlan)},
                      {"first_seen", timeJson(s.first_us)},
                      {"last_seen", timeJson(s.last_us)},
                      {"frames", s.frames}};
}

json::object findingJson(const wire::Finding& f) {
  json::object o;
  o["kind"] = wire::findingKindName(f.kind);
  o["severity"] = wire::severityName(f.severity);
  o["vlan"] = vlanJson(f.segment.vlan);
  if (f.segment.outer_vlan != 0) o["outer_vlan"] = f.segment.outer_vlan;
  o["ip"] = f.ip ? json::value(f.ip->toString()) : json::value(nullptr);
  o["mac"] = f.mac ? json::value(f.mac->toString()) : json::value(nullptr);
  json::array macs, ips;
  for (const auto& m : f.macs) macs.emplace_back(m.toString());
  for (const auto& ip : f.ips) ips.emplace_back(ip.toString());
  o["macs"] = std::move(macs);
  o["ips"] = std::move(ips);
  o["count"] = f.count;
  o["first_seen"] = timeJson(f.first_us);
  o["last_seen"] = timeJson(f.last_us);
  o["detail"] = f.detail;
  if (f.kind == wire::FindingKind::kNewStation || f.kind == wire::FindingKind::kRogueSegment) {
    json::array stations;
    for (const auto& s : f.stations) stations.emplace_back(stationJson(s));
    o["stations"] = std::move(stations);
  }
  return o;
}

json::object countsJson(const wire::FrameCounts& c) {
  json::object kinds, errors;
  for (int k = 0; k < wire::kFrameKindCount; ++k) {
    kinds[wire::frameKindName(static_cast<wire::FrameKind>(k))] = c.by_kind[k];
  }
  std::uint64_t malformed = 0;
  for (int e = 0; e < wire::kParseErrorCount; ++e) {
    auto error = static_cast<wire::ParseError>(e);
    if (error == wire::ParseError::kOk || error == wire::ParseError::kNotArpOrNdp) continue;
    if (c.by_error[e] != 0) errors[wire::parseErrorName(error)] = c.by_error[e];
    malformed += c.by_error[e];
  }
  return json::object{{"total", c.frames},
                      {"by_kind", std::move(kinds)},
                      {"other", c.by_error[static_cast<int>(wire::ParseError::kNotArpOrNdp)]},
                      {"malformed", malformed},
                      {"malformed_by_error", std::move(errors)}};
}

// ---------------------------------------------------------------------------------------------
// The ledger, for analyze-pcap --server

std::string stringOr(const json::value& v, std::string fallback = "") {
  return v.is_string() ? std::string(v.as_string()) : fallback;
}

std::optional<wire::LedgerPool> poolFromJson(const json::value& item) {
  wire::LedgerPool p;
  p.name = stringOr(member(item, "name"));
  const json::value& cidrs = member(item, "cidrs");
  if (cidrs.is_array()) {
    for (const auto& c : cidrs.as_array()) {
      if (auto prefix = addr::Prefix::parse(stringOr(c))) p.cidrs.push_back(*prefix);
    }
  } else if (auto prefix = addr::Prefix::parse(stringOr(member(item, "cidr")))) {
    p.cidrs.push_back(*prefix);
  }
  if (auto gw = addr::IpAddress::parse(stringOr(member(item, "gateway")))) p.gateway = *gw;
  if (const json::value& vlan = member(item, "vlan"); vlan.is_int64()) {
    p.vlan = static_cast<int>(vlan.as_int64());
  }
  const json::value& reserved = member(item, "reserved");
  if (reserved.is_array()) {
    for (const auto& r : reserved.as_array()) {
      if (auto range = addr::IpRange::parse(stringOr(r))) p.reserved.push_back(*range);
    }
  }
  if (p.cidrs.empty()) return std::nullopt;
  return p;
}

// A binding that holds addresses (reserved or active), with the addresses from pools of the
// chosen networks (`pools` empty: any).
std::optional<wire::LedgerBinding> bindingFromJson(const json::value& item,
                                                   const std::set<std::string>* pools) {
  std::string state = stringOr(member(item, "state"));
  if (state != "active" && state != "reserved") return std::nullopt;
  wire::LedgerBinding b;
  b.id = cellText(member(item, "id"));
  b.instance = stringOr(member(item, "instance"));
  if (auto mac = addr::Mac::parse(stringOr(member(item, "mac")))) b.mac = *mac;
  const json::value& detail = member(item, "address_pools");
  if (detail.is_array()) {
    for (const auto& d : detail.as_array()) {
      const json::value& pool = member(d, "pool");
      // An address given explicitly without a pool belongs to no network we can tell: keep it.
      if (pools != nullptr && pool.is_string() && !pools->count(std::string(pool.as_string()))) {
        continue;
      }
      if (auto ip = addr::IpAddress::parse(stringOr(member(d, "ip")))) b.addresses.push_back(*ip);
    }
  } else if (const json::value& addresses = member(item, "addresses"); addresses.is_array()) {
    for (const auto& a : addresses.as_array()) {
      if (auto ip = addr::IpAddress::parse(stringOr(a))) b.addresses.push_back(*ip);
    }
  }
  return b;
}

// GET /v1/pools and every page of GET /v1/bindings. `network` empty: all networks.
std::optional<FailureReport> fetchLedger(ApiClient& client, const std::string& network,
                                         wire::LedgerView& view) {
  ApiReply pools = client.call("GET", "/v1/pools");
  if (!pools.ok()) return pools.failure;
  std::set<std::string> names;
  const json::value& items = member(pools.body, "items");
  if (items.is_array()) {
    for (const auto& item : items.as_array()) {
      if (!network.empty() &&
          stringOr(member(item, "network"), std::string(addr::kDefaultNetwork)) != network)
        continue;
      if (auto p = poolFromJson(item)) {
        names.insert(p->name);
        view.pools.push_back(std::move(*p));
      }
    }
  }
  std::set<std::string> seen_cursors;
  std::string cursor;
  while (true) {
    std::string target = "/v1/bindings?limit=" + std::to_string(kBindingsPage);
    if (!cursor.empty()) target += "&cursor=" + encodeQueryValue(cursor);
    ApiReply page = client.call("GET", target);
    if (!page.ok()) return page.failure;
    const json::value& bindings = member(page.body, "items");
    if (bindings.is_array()) {
      for (const auto& item : bindings.as_array()) {
        if (auto b = bindingFromJson(item, network.empty() ? nullptr : &names)) {
          view.bindings.push_back(std::move(*b));
        }
      }
    }
    // The last page has no cursor (null or ""); a repeated one would loop forever.
    cursor = stringOr(member(page.body, "next_cursor"));
    if (cursor.empty() || !seen_cursors.insert(cursor).second) break;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// analyze-pcap

void printAnalysis(std::ostream& out, const json::object& report) {
  const json::value& frames = report.at("frames");
  std::string kinds;
  for (const auto& kv : member(frames, "by_kind").as_object()) {
    if (kv.value().to_number<std::uint64_t>() == 0) continue;
    kinds +=
        (kinds.empty() ? "" : ", ") + json::serialize(kv.value()) + " " + std::string(kv.key());
  }
  json::object summary;
  summary["capture"] = report.at("file");
  summary["frames"] = json::serialize(member(frames, "total")) + " (" +
                      (kinds.empty() ? "no ARP/NDP" : kinds) + "; " +
                      json::serialize(member(frames, "other")) + " other, " +
                      json::serialize(member(frames, "malformed")) + " malformed)";
  summary["stations"] = json::serialize(report.at("stations")) + " (IP, MAC) pairs";
  if (const auto* ledger = report.if_contains("ledger")) {
    summary["ledger"] = json::serialize(member(*ledger, "pools")) + " pools, " +
                        json::serialize(member(*ledger, "bindings")) + " bindings compared";
  }
  printResult(out, OutputFormat::kTable, summary);

  const json::array& findings = report.at("findings").as_array();
  out << '\n';
  if (findings.empty()) {
    out << "no findings\n";
    return;
  }
  std::vector<std::vector<std::string>> rows;
  const json::value* new_stations = nullptr;
  for (const auto& f : findings) {
    bool by_ips = !member(f, "ips").as_array().empty();
    rows.push_back({cellText(member(f, "severity")), cellText(member(f, "kind")),
                    cellText(member(f, "vlan")), cellText(member(f, "ip")),
                    cellText(member(f, "mac")), cellText(member(f, by_ips ? "ips" : "macs")),
                    cellText(member(f, "count")), cellText(member(f, "first_seen")),
                    cellText(member(f, "last_seen")), cellText(member(f, "detail"))});
    if (cellText(member(f, "kind")) == "new_station") new_stations = &f;
  }
  printTable(out,
             {"SEVERITY", "KIND", "VLAN", "IP", "MAC", "MACS/IPS", "COUNT", "FIRST_SEEN",
              "LAST_SEEN", "DETAIL"},
             rows);
  if (new_stations == nullptr) return;
  const json::array& stations = member(*new_stations, "stations").as_array();
  if (stations.empty()) return;
  out << "\nfirst " << stations.size() << " of " << cellText(member(*new_stations, "count"))
      << " new stations:\n";
  std::vector<std::vector<std::string>> station_rows;
  for (const auto& s : stations) {
    station_rows.push_back({cellText(member(s, "ip")), cellText(member(s, "mac")),
                            cellText(member(s, "vlan")), cellText(member(s, "first_seen")),
                            cellText(member(s, "frames"))});
  }
  printTable(out, {"IP", "MAC", "VLAN", "FIRST_SEEN", "FRAMES"}, station_rows);
}

int analyzePcap(const ClientEnv& env, const AnalyzeArgs& a, std::ostream& out, std::ostream& err) {
  auto reader = wire::PcapReader::open(a.file);
  if (!reader) return usageError(err, reader.status().message());
  wire::AnalyzerOptions options;
  options.window_us = static_cast<std::uint64_t>(a.window_s * 1e6);
  // The JSON is whole (every station); the table lists --examples of them.
  options.examples = env.format == OutputFormat::kJson ? SIZE_MAX : a.examples;
  wire::CaptureAnalyzer analyzer(options);
  ReadProgress progress(err, **reader);
  wire::PcapFrame frame;
  while (true) {
    auto more = (*reader)->next(frame);
    if (!more) {
      progress.clear();
      return usageError(err, more.status().message());
    }
    if (!*more) break;
    analyzer.addFrame(frame.bytes, frame.time_us);
    progress.tick();
  }
  progress.clear();

  std::vector<wire::Finding> findings = analyzer.findings();
  json::object report;
  report["file"] = a.file;
  report["frames"] = countsJson(analyzer.counts());
  std::vector<wire::Station> stations = analyzer.stations();
  report["stations"] = stations.size();
  // Only an explicit --server compares: analysing a file must not depend on $NETLEDGER_URL.
  if (!env.server.server.empty()) {
    auto client = ApiClient::open(env.server);
    if (!client) return reportFailure(err, reportFromStatus(client.status()));
    wire::LedgerView ledger;
    if (auto failure = fetchLedger(**client, a.network, ledger)) {
      return reportFailure(err, *failure);
    }
    auto more = wire::compareWithLedger(stations, ledger);
    findings.insert(findings.end(), more.begin(), more.end());
    std::sort(findings.begin(), findings.end(), wire::findingOrder);
    report["ledger"] =
        json::object{{"server", (*client)->origin()},
                     {"network", a.network.empty() ? json::value(nullptr) : json::value(a.network)},
                     {"pools", ledger.pools.size()},
                     {"bindings", ledger.bindings.size()}};
  }
  json::array items;
  bool alarming = false;
  for (const auto& f : findings) {
    items.emplace_back(findingJson(f));
    alarming = alarming || f.severity >= wire::FindingSeverity::kWarning;
  }
  report["findings"] = std::move(items);
  if (env.format == OutputFormat::kJson) {
    writeJson(out, report);
  } else {
    printAnalysis(out, report);
  }
  return a.fail_on_findings && alarming ? kExitFindings : kExitOk;
}

// ---------------------------------------------------------------------------------------------
// import-pcap

struct PcapImportTally {
  std::uint64_t frames = 0;
  std::uint64_t observations = 0;  // sent
  std::uint64_t skipped = 0;       // not ARP/NDP, or malformed
  std::uint64_t accepted = 0;
  std::uint64_t batches = 0;
};

std::optional<std::uint64_t> countOf(const json::value& v) {
  if (v.is_uint64()) return v.as_uint64();
  if (v.is_int64() && v.as_int64() >= 0) return static_cast<std::uint64_t>(v.as_int64());
  return std::nullopt;
}

// Posts one batch; a 413 (the server's body limit) splits it in halves and retries.
std::optional<FailureReport> postBatch(ApiClient& client,
                                       std::span<const observation::Observation> batch,
                                       PcapImportTally& tally) {
  ApiReply reply =
      client.callWithJsonText("POST", "/v1/observations", observation::observationsToJson(batch));
  if (reply.status == 413 && batch.size() > 1) {
    std::size_t half = batch.size() / 2;
    if (auto failure = postBatch(client, batch.first(half), tally)) return failure;
    return postBatch(client, batch.subspan(half), tally);
  }
  if (!reply.ok()) return reply.failure;
  auto accepted = countOf(member(reply.body, "accepted"));
  if (!accepted) {
    return FailureReport{kExitFailure,
                         "POST /v1/observations: the reply has no \"accepted\" "
                         "count (internal)"};
  }
  tally.accepted += *accepted;
  tally.observations += batch.size();
  ++tally.batches;
  return std::nullopt;
}

void printImport(std::ostream& out, OutputFormat format, const std::string& file,
                 const PcapImportTally& t) {
  if (format == OutputFormat::kJson) {
    out << json::serialize(json::object{{"file", file},
                                        {"frames", t.frames},
                                        {"observations", t.observations},
                                        {"skipped", t.skipped},
                                        {"batches", t.batches},
                                        {"accepted", t.accepted}})
        << '\n';
    return;
  }
  out << "import-pcap: " << t.frames << " frames, " << t.observations << " observations sent in "
      << t.batches << " batch(es), " << t.accepted << " accepted; " << t.skipped
      << " frames not ARP/NDP or malformed\n";
}

// A frame of the capture as an observation, seen where the command line says.
observation::Observation observed(const wire::Frame& frame, std::uint64_t time_us,
                                  const PcapImportArgs& a) {
  observation::Observation o = wire::toObservation(frame, time_us);
  o.network = a.network;
  o.host = a.host;
  o.interface = a.interface;
  o.source = observation::Source::kPcap;
  return o;
}

int importPcap(const ClientEnv& env, const PcapImportArgs& a, std::ostream& out,
               std::ostream& err) {
  if (a.batch == 0 || a.batch > kMaxBatch) {
    return usageError(err, "--batch: must be 1 to " + std::to_string(kMaxBatch));
  }
  if (a.network.empty()) return usageError(err, "--network: must not be empty");
  auto reader = wire::PcapReader::open(a.file);
  if (!reader) return usageError(err, reader.status().message());
  auto client = ApiClient::open(env.server);
  if (!client) return reportFailure(err, reportFromStatus(client.status()));

  std::vector<observation::Observation> batch;
  batch.reserve(a.batch);
  PcapImportTally tally;
  ReadProgress progress(err, **reader);
  std::optional<FailureReport> failure;
  std::optional<Status> read_error;
  wire::PcapFrame pcap_frame;
  wire::Frame frame;
  while (!failure) {
    auto more = (*reader)->next(pcap_frame);
    if (!more) {
      read_error = more.status();
      break;
    }
    if (!*more) break;
    ++tally.frames;
    progress.tick();
    if (wire::parseFrame(pcap_frame.bytes, frame) != wire::ParseError::kOk) {
      ++tally.skipped;
      continue;
    }
    batch.push_back(observed(frame, pcap_frame.time_us, a));
    if (batch.size() == a.batch) {
      failure = postBatch(**client, batch, tally);
      batch.clear();
    }
  }
  // What was read before a damaged record is still worth sending.
  if (!failure && !batch.empty()) failure = postBatch(**client, batch, tally);
  progress.clear();
  printImport(out, env.format, a.file, tally);
  if (failure) return reportFailure(err, *failure);
  if (read_error) return usageError(err, read_error->message());
  return kExitOk;
}

}  // namespace

void addPcapCommands(CLI::App& app, const ClientEnvPtr& env) {
  auto a = std::make_shared<AnalyzeArgs>();
  auto* analyze = app.add_subcommand(
      "analyze-pcap",
      "Judge the ARP/NDP traffic of a capture file (duplicate IPs, flapping, DAD conflicts, "
      "spoofing signs); with --server also against the ledger");
  analyze->add_option("file", a->file, "pcap or pcapng file (Ethernet)")->required();
  analyze->add_option("--window", a->window_s, "Seconds within which two claims conflict")
      ->check(CLI::Range(0.001, 86400.0))
      ->capture_default_str();
  analyze->add_option("--network", a->network,
                      "With --server: compare with the pools of this network only");
  analyze->add_option("--examples", a->examples, "New stations to list")->capture_default_str();
  analyze->add_flag("--fail-on-findings", a->fail_on_findings,
                    "Exit 3 when a finding of severity warning or error is reported");
  analyze->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      return analyzePcap(*env, *a, out, err);
    };
  });

  auto i = std::make_shared<PcapImportArgs>();
  auto* import = app.add_subcommand(
      "import-pcap", "Post the ARP/NDP frames of a capture file to POST /v1/observations");
  import->add_option("file", i->file, "pcap or pcapng file (Ethernet)")->required();
  import->add_option("--network", i->network, "Network the capture was taken in")
      ->capture_default_str();
  import->add_option("--host", i->host, "Host (node) the capture was taken on");
  import->add_option("--interface", i->interface, "Interface the capture was taken on");
  import->add_option("--batch", i->batch, "Observations per request (at most 10000)")
      ->capture_default_str();
  import->callback([env, i] {
    env->action = [env, i](std::ostream& out, std::ostream& err) {
      return importPcap(*env, *i, out, err);
};
}  // namespace netledger::cli
);
}

}  // namespace netledger::cli
