#include "common/clock.h"

namespace netledger {

SystemClock& SystemClock::instance() {
  static SystemClock clock;
  return clock;
}

}  // namespace netledger
