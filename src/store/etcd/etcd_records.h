#pragma once
// The etcd backend's values: each record as one JSON object (Boost.JSON), with every field, so
// a replica reads exactly what another wrote. Column-style encodings (a binding's addresses,
// labels, a pool's structured fields) are the SQLite backend's (sqlite/record_codec.h): one
// format for both. Decoders never throw; a malformed value is a Status naming the record.

#include <string>
#include <string_view>

#include "common/status.h"
#include "ledger/model.h"

namespace netledger::store::etcd {

std::string encode(const ledger::PoolRecord& p);
std::string encode(const ledger::MacPoolRecord& p);
std::string encode(const ledger::BindingRecord& b);
std::string encode(const ledger::TokenRecord& t);
std::string encode(const ledger::QuarantineRecord& q);
std::string encode(const ledger::DocumentRecord& d);
std::string encode(const ledger::EventRecord& e);

Status decode(std::string_view text, ledger::PoolRecord& p);
Status decode(std::string_view text, ledger::MacPoolRecord& p);
Status decode(std::string_view text, ledger::BindingRecord& b);
Status decode(std::string_view text, ledger::TokenRecord& t);
Status decode(std::string_view text, ledger::QuarantineRecord& q);
Status decode(std::string_view text, ledger::DocumentRecord& d);
Status decode(std::string_view text, ledger::EventRecord& e);

}  // namespace netledger::store::etcd
