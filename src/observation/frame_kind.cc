#include "observation/frame_kind.h"

#include "common/enum_names.h"

namespace netledger::observation {

namespace {

constexpr detail::Names<FrameKind, kFrameKindCount + 1> kKinds = {{
    {FrameKind::kArpRequest, "request"},
    {FrameKind::kArpReply, "reply"},
    {FrameKind::kArpProbe, "probe"},
    {FrameKind::kArpAnnouncement, "announcement"},
    {FrameKind::kNeighborSolicitation, "ns"},
    {FrameKind::kNeighborAdvertisement, "na"},
    {FrameKind::kDadProbe, "dad"},
    {FrameKind::kUnknown, "unknown"},
}};

}  // namespace

std::string_view frameKindName(FrameKind kind) { return detail::nameOf(kKinds, kind); }

Result<FrameKind> parseFrameKind(std::string_view text) {
  return detail::parseOf(kKinds, text, "kind");
}

}  // namespace netledger::observation
