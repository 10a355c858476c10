#pragma once
// Overloaded{lambdas...}: one visitor from several lambdas, for std::visit over ledger::Write.

namespace netledger::store {

template <typename... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <typename... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

}  // namespace netledger::store
