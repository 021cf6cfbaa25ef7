// The report's style sheet, inlined into index.html (nothing is fetched).
// Colours are the Okabe-Ito palette the plots use (svg.cc).
#include "report/sections.h"

namespace wattlab::report {

const char* const kReportCss = R"CSS(
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: #1a1a1a; background: #f4f4f2;
       margin: 0; line-height: 1.45; }
main { max-width: 1080px; margin: 0 auto; padding: 16px 28px 48px; background: #fff; }
h1 { font-size: 26px; margin: 12px 0 4px; }
h2 { font-size: 20px; border-bottom: 2px solid #0072B2; padding-bottom: 3px; margin-top: 34px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.banner { font-weight: bold; padding: 10px 14px; border-radius: 4px; margin: 12px 0; font-size: 15px; }
.banner.measured { background: #e3f3ec; border-left: 6px solid #009E73; }
.banner.estimated { background: #fdeee3; border-left: 6px solid #D55E00; }
.badge { display: inline-block; font-size: 11px; font-weight: bold; padding: 1px 6px; border-radius: 3px;
         background: #D55E00; color: #fff; margin-left: 6px; vertical-align: middle; }
ul.findings li { margin: 6px 0; }
.empty { color: #5a5a5a; font-style: italic; background: #f6f6f6; padding: 8px 12px; border-left: 4px solid #bbb; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0 14px; }
th, td { border: 1px solid #d5d5d5; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #eef3f8; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #fafafa; }
figure { margin: 10px 0 22px; }
figcaption { font-size: 12px; color: #555; }
svg.plot { max-width: 100%; height: auto; display: block; }
svg.plot text { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 11px; fill: #222; }
svg.plot .plot-title { font-size: 14px; font-weight: bold; }
svg.plot .axis-label { font-size: 12px; }
svg.plot .tick { font-size: 11px; fill: #333; }
svg.plot .grid { stroke: #e4e4e4; stroke-width: 1; }
svg.plot .leader { stroke: #888; stroke-width: 0.8; }
svg.plot .point-number { font-size: 10px; font-weight: bold; }
svg.plot .note { font-size: 11px; }
pre { background: #f6f6f6; padding: 10px; overflow-x: auto; font-size: 12px; }
details summary { cursor: pointer; font-weight: bold; margin: 6px 0; }
footer { font-size: 12px; color: #666; margin-top: 30px; }
)CSS";

}  // namespace wattlab::report
