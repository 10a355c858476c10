// PcapWriter and PcapReader through libpcap: round trips, and clear errors (naming the file)
// for a missing file, a file that is no capture, a non-Ethernet link type and truncation.
#include "wire/pcap_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "wire/frames.h"
#include "wire/wire_test_util.h"

namespace netledger::wire {
namespace {

using ::testing::HasSubstr;
using testing_util::at;
using testing_util::CaptureFile;
using testing_util::mac;
using testing_util::ScratchDir;
using testing_util::v4;
using testing_util::v6;

std::vector<std::uint8_t> bytesOf(const PcapFrame& f) { return {f.bytes.begin(), f.bytes.end()}; }

TEST(PcapFileTest, WrittenFramesReadBackWithTimesAndLengths) {
  ScratchDir dir;
  CaptureFile capture(dir.file("round.pcap"));
  auto arp = buildArpRequest(mac("52:54:00:00:00:01"), v4("192.0.2.2"), v4("192.0.2.1"));
  auto ns =
      buildNeighborSolicitation(mac("52:54:00:00:00:02"), v6("2001:db8::2"), v6("2001:db8::1"), 12);
  capture.add(0.0, arp);
  capture.add(1.234567, ns);
  capture.add(3600.000001, arp);
  auto path = capture.close();

  auto reader = PcapReader::open(path);
  ASSERT_TRUE(reader.isOk()) << reader.status().message();
  EXPECT_EQ((*reader)->fileSize(), std::filesystem::file_size(path));
  PcapFrame f;
  std::vector<std::pair<std::uint64_t, std::vector<std::uint8_t>>> got;
  while (true) {
    auto more = (*reader)->next(f);
    ASSERT_TRUE(more.isOk()) << more.status().message();
    if (!*more) break;
    EXPECT_EQ(f.original_length, f.bytes.size());
    got.emplace_back(f.time_us, bytesOf(f));
  }
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ((*reader)->framesRead(), 3u);
  EXPECT_EQ((*reader)->position(), (*reader)->fileSize());
  EXPECT_EQ(got[0].first, at(0));
  EXPECT_EQ(got[1].first, at(1.234567));
  EXPECT_EQ(got[2].first, CaptureFile::kStartUs + 3'600'000'001ull);
  EXPECT_EQ(got[0].second, testing_util::toVector(arp));
  EXPECT_EQ(got[1].second, testing_util::toVector(ns));
  // End of file stays the end.
  auto again = (*reader)->next(f);
  ASSERT_TRUE(again.isOk());
  EXPECT_FALSE(*again);
}

TEST(PcapFileTest, MissingFileAndNonCaptureNameTheFile) {
  ScratchDir dir;
  auto missing = PcapReader::open(dir.file("nope.pcap"));
  ASSERT_FALSE(missing.isOk());
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("nope.pcap"));

  std::string text = dir.file("notes.txt");
  std::ofstream(text) << "this is not a capture file at all, just words\n";
  auto garbage = PcapReader::open(text);
  ASSERT_FALSE(garbage.isOk());
  EXPECT_THAT(garbage.status().message(), HasSubstr("notes.txt"));
  EXPECT_THAT(garbage.status().message(), HasSubstr("cannot read capture"));
}

TEST(PcapFileTest, NonEthernetLinkTypeIsRefused) {
  ScratchDir dir;
  std::string path = dir.file("any.pcap");
  {
    auto w = PcapWriter::create(path, 113);  // DLT_LINUX_SLL: `tcpdump -i any`
    ASSERT_TRUE(w.isOk());
    std::vector<std::uint8_t> frame(44, 0);
    (*w)->write(frame, at(0));
    ASSERT_TRUE((*w)->close().isOk());
  }
  auto r = PcapReader::open(path);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("any.pcap"));
  EXPECT_THAT(r.status().message(), HasSubstr("LINUX_SLL (113) is not Ethernet"));
}

TEST(PcapFileTest, TruncatedFileIsAnErrorNamingFileAndFrame) {
  ScratchDir dir;
  CaptureFile capture(dir.file("cut.pcap"));
  auto arp = buildArpProbe(mac("52:54:00:00:00:03"), v4("198.51.100.3"));
  for (int i = 0; i < 3; ++i) capture.add(i, arp);
  auto path = capture.close();
  auto size = std::filesystem::file_size(path);
  // Cut inside the third record's data, then inside its header.
  for (std::uintmax_t cut : {size - 10, size - 60 - 6}) {
    std::filesystem::resize_file(path, cut);
    auto reader = PcapReader::open(path);
    ASSERT_TRUE(reader.isOk()) << reader.status().message();
    PcapFrame f;
    int frames = 0;
    Status error;
    while (true) {
      auto more = (*reader)->next(f);
      if (!more) {
        error = more.status();
        break;
      }
      if (!*more) break;
      ++frames;
    }
    EXPECT_EQ(frames, 2) << cut;
    ASSERT_FALSE(error.isOk()) << "a cut record must not read as a clean end, cut at " << cut;
    EXPECT_THAT(error.message(), HasSubstr("cut.pcap"));
    EXPECT_THAT(error.message(), HasSubstr("frame 3"));
    EXPECT_THAT(error.message(), HasSubstr("truncated"));
  }
  // A file cut inside its global header is not a capture at all.
  std::filesystem::resize_file(path, 10);
  auto header = PcapReader::open(path);
  ASSERT_FALSE(header.isOk());
  EXPECT_THAT(header.status().message(), HasSubstr("cut.pcap"));
}

TEST(PcapFileTest, WriterErrorsNameTheFile) {
  auto w = PcapWriter::create("/nonexistent-dir/x.pcap");
  ASSERT_FALSE(w.isOk());
  EXPECT_THAT(w.status().message(), HasSubstr("/nonexistent-dir/x.pcap"));
}

}  // namespace
}  // namespace netledger::wire
