#include "addr/uint128.h"

#include <algorithm>

namespace netledger::addr {

std::string toDecimal(uint128 v) {
  if (v == 0) return "0";
  std::string out;
  while (v != 0) {
    out.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

double AddressCount::toDouble() const {
  if (full_) return 340282366920938463463374607431768211456.0;
  return static_cast<double>(value_);
}

std::string AddressCount::toString() const {
  return full_ ? std::string("340282366920938463463374607431768211456") : toDecimal(value_);
}

}  // namespace netledger::addr
