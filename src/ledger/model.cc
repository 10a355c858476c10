#include "ledger/model.h"

namespace netledger::ledger {

std::string_view bindingStateName(BindingState s) {
  switch (s) {
    case BindingState::kReserved:
      return "reserved";
    case BindingState::kActive:
      return "active";
    case BindingState::kReleased:
      return "released";
    case BindingState::kExpired:
      return "expired";
  }
  return "active";
}

Result<BindingState> parseBindingState(std::string_view text) {
  for (auto s : {BindingState::kReserved, BindingState::kActive, BindingState::kReleased,
                 BindingState::kExpired}) {
    if (bindingStateName(s) == text) return s;
  }
  return Status::invalidArgument("state: \"" + std::string(text.substr(0, 32)) +
                                 "\" is not one of reserved, active, released, expired");
}

std::string_view roleName(Role r) {
  switch (r) {
    case Role::kViewer:
      return "viewer";
    case Role::kOperator:
      return "operator";
    case Role::kAdmin:
      return "admin";
  }
  return "viewer";
}

Result<Role> parseRole(std::string_view text) {
  for (auto r : {Role::kViewer, Role::kOperator, Role::kAdmin}) {
    if (roleName(r) == text) return r;
  }
  return Status::invalidArgument("role: \"" + std::string(text.substr(0, 32)) +
                                 "\" is not one of admin, operator, viewer");
}

}  // namespace netledger::ledger
