#pragma once
// Capture files through libpcap (pcap and pcapng): a reader for Ethernet captures and a writer
// (pcap_open_dead + pcap_dump) for tests and the benchmark generator. libpcap's headers stay
// in pcap_file.cc.
//
// Neither class is thread-safe; each owns its file until destroyed.

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "common/status.h"

namespace netledger::wire {

// One frame as read. `bytes` points into the reader's buffer and is valid until the next call
// to PcapReader::next.
struct PcapFrame {
  std::span<const std::uint8_t> bytes;  // the captured bytes (at most the snap length)
  std::uint64_t time_us = 0;            // microseconds since the Unix epoch
  std::uint32_t original_length = 0;    // the frame's length on the wire
};

class PcapReader {
 public:
  // Opens a pcap or pcapng file. invalid_argument, naming the file, when it cannot be opened,
  // is not a capture, or its link type is not Ethernet (e.g. a Linux "any" capture).
  static Result<std::unique_ptr<PcapReader>> open(const std::string& path);
  ~PcapReader();
  PcapReader(const PcapReader&) = delete;
  PcapReader& operator=(const PcapReader&) = delete;

  // Reads the next frame into `frame`: true, or false at the end of the file. An error
  // (invalid_argument) names the file and the frame number: a truncated record, a read error.
  Result<bool> next(PcapFrame& frame);

  const std::string& path() const { return path_; }
  std::uint64_t framesRead() const { return frames_; }
  // Bytes of the file consumed so far, and its size: for progress bars.
  std::uint64_t position() const;
  std::uint64_t fileSize() const { return file_size_; }

 private:
  struct Handle;
  PcapReader(std::unique_ptr<Handle> handle, std::string path, std::uint64_t file_size);
  std::unique_ptr<Handle> handle_;
  std::string path_;
  std::uint64_t file_size_ = 0;
  std::uint64_t frames_ = 0;
};

class PcapWriter {
 public:
  // LINKTYPE_ETHERNET / DLT_EN10MB.
  static constexpr int kLinkTypeEthernet = 1;

  // Creates (truncates) a pcap file with microsecond timestamps. `link_type` is a DLT_ value;
  // tests pass others to check that the reader refuses them.
  static Result<std::unique_ptr<PcapWriter>> create(const std::string& path,
                                                    int link_type = kLinkTypeEthernet,
                                                    std::uint32_t snap_length = 65535);
  ~PcapWriter();  // closes (flushes) the file
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  // Appends one frame seen at `time_us` (its original length is its size).
  void write(std::span<const std::uint8_t> frame, std::uint64_t time_us);
  // Flushes and closes; the error names the file. Further writes are ignored.
  Status close();

 private:
  struct Handle;
  PcapWriter(std::unique_ptr<Handle> handle, std::string path);
  std::unique_ptr<Handle> handle_;
  std::string path_;
};

}  // namespace netledger::wire
