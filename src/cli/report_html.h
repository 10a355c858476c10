#pragma once
// The address-health report (GET /v1/reports/health) as one self-contained HTML file: inline
// CSS and inline SVG charts, no script and nothing fetched, so it opens offline and can be
// mailed. Every figure carries data-figure="<json path>" and every chart mark data-value, so a
// browser test can compare what is drawn with the JSON.

#include <ostream>

#include <boost/json/value.hpp>

namespace netledger::cli {

void writeHealthHtml(std::ostream& out, const boost::json::value& report);

}  // namespace netledger::cli
