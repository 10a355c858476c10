#pragma once
// Records to and from the SQLite backend's rows: the parameters of each table's INSERT/UPDATE
// (numbered ?N parameters, so one bind function serves both) and the decoding of the bindings
// and events columns. Column encodings themselves are record_codec.h's.

#include <optional>

#include "addr/mac.h"
#include "common/status.h"
#include "ledger/model.h"
#include "store/sqlite/sqlite_db.h"

namespace netledger::store::sqlite {

void bindOptionalMac(Statement& s, int index, const std::optional<addr::Mac>& mac);
void bindPool(Statement& s, const ledger::PoolRecord& p);
void bindMacPool(Statement& s, const ledger::MacPoolRecord& p);
void bindBinding(Statement& s, const ledger::BindingRecord& b);
void bindToken(Statement& s, const ledger::TokenRecord& t);
std::optional<addr::Mac> optionalMac(const Statement& s, int column);
// Decodes one row of `SELECT kBindingColumns FROM bindings` into `b`. The hot path of
// start-up: no JSON unless the binding has labels.
Status decodeBinding(const Statement& s, ledger::BindingRecord& b);
// Decodes one row of the events table's columns (seq, time, actor, op, subject, keys, before,
// after) into `e`.
Status decodeEvent(const Statement& s, ledger::EventRecord& e);

}  // namespace netledger::store::sqlite
