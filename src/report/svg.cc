#include "report/svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

namespace wattlab::report {
namespace {

constexpr double kFontPx = 11.0;
// Average advance of a sans-serif glyph at 11 px; generous so estimated boxes
// cover the real text in common fonts (DejaVu Sans is wide).
constexpr double kCharPx = 6.6;
constexpr double kLabelH = 13.0;
constexpr double kMarkerR = 4.5;
constexpr double kRowPx = 18.0;

struct Box {
  double x0, y0, x1, y1;
  bool Overlaps(const Box& o) const { return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1; }
  bool Inside(const Box& o) const { return x0 >= o.x0 && x1 <= o.x1 && y0 >= o.y0 && y1 <= o.y1; }
};

size_t Utf8Length(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

double TextWidth(const std::string& s, double font_px = kFontPx) {
  return static_cast<double>(Utf8Length(s)) * kCharPx * font_px / kFontPx;
}

std::string Num(double v) {
  // Coordinates with 0.1 px precision: enough for a screen, small output.
  if (!std::isfinite(v)) v = 0;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  std::string s(buf);
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  if (s == "-0") s = "0";
  return s;
}

bool Usable(double v, AxisScale scale) {
  if (!std::isfinite(v)) return false;
  return scale == AxisScale::kLinear || v > 0;
}

// Maps data values onto pixels along one axis.
struct Mapper {
  AxisScale scale;
  double lo, hi;  // data range
  double p0, p1;  // pixel range (p0 maps lo)
  double T(double v) const { return scale == AxisScale::kLog ? std::log10(v) : v; }
  double operator()(double v) const {
    const double a = T(lo), b = T(hi);
    if (b == a) return (p0 + p1) / 2;
    return p0 + (T(v) - a) / (b - a) * (p1 - p0);
  }
};

// The data range of one axis, padded so markers do not sit on the frame.
std::pair<double, double> AxisRange(const Axis& axis, std::vector<double> values) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (double v : values) {
    if (!Usable(v, axis.scale)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (axis.scale == AxisScale::kLog) {
    if (!std::isfinite(lo)) lo = 1, hi = 10;
    if (lo == hi) lo /= 2, hi *= 2;
    const double pad = std::pow(hi / lo, 0.06);
    lo /= pad;
    hi *= pad;
  } else {
    if (!std::isfinite(lo)) lo = 0, hi = 1;
    if (axis.include_zero) lo = std::min(lo, 0.0), hi = std::max(hi, 0.0);
    if (lo == hi) {
      const double d = lo == 0 ? 1 : std::fabs(lo) * 0.1;
      lo -= d;
      hi += d;
    }
    const double pad = (hi - lo) * 0.06;
    // Keep a zero baseline at zero when the data do not go below it.
    lo = (axis.include_zero && lo >= 0) ? lo : lo - pad;
    hi += pad;
  }
  if (axis.min && Usable(*axis.min, axis.scale)) lo = *axis.min;
  if (axis.max && Usable(*axis.max, axis.scale)) hi = *axis.max;
  if (!(hi > lo)) hi = axis.scale == AxisScale::kLog ? lo * 10 : lo + 1;
  return {lo, hi};
}

std::string MarkerSvg(int shape, double x, double y, const std::string& color, bool highlight) {
  const double r = highlight ? kMarkerR + 1.5 : kMarkerR;
  const std::string stroke =
      highlight ? " stroke=\"#000\" stroke-width=\"1.6\"" : " stroke=\"#fff\" stroke-width=\"0.8\"";
  std::ostringstream o;
  switch (((shape % 4) + 4) % 4) {
    case 0:
      o << "<circle cx=\"" << Num(x) << "\" cy=\"" << Num(y) << "\" r=\"" << Num(r) << "\" fill=\"" << color
        << "\"" << stroke << "/>";
      break;
    case 1:
      o << "<rect x=\"" << Num(x - r) << "\" y=\"" << Num(y - r) << "\" width=\"" << Num(2 * r)
        << "\" height=\"" << Num(2 * r) << "\" fill=\"" << color << "\"" << stroke << "/>";
      break;
    case 2:
      o << "<polygon points=\"" << Num(x) << "," << Num(y - r - 1) << " " << Num(x - r - 0.5) << ","
        << Num(y + r) << " " << Num(x + r + 0.5) << "," << Num(y + r) << "\" fill=\"" << color << "\""
        << stroke << "/>";
      break;
    default:
      o << "<polygon points=\"" << Num(x) << "," << Num(y - r - 1) << " " << Num(x + r + 1) << "," << Num(y)
        << " " << Num(x) << "," << Num(y + r + 1) << " " << Num(x - r - 1) << "," << Num(y) << "\" fill=\""
        << color << "\"" << stroke << "/>";
  }
  return o.str();
}

std::string TextSvg(double x, double y, const std::string& text, const std::string& anchor = "start",
                    const std::string& extra = "") {
  std::ostringstream o;
  o << "<text x=\"" << Num(x) << "\" y=\"" << Num(y) << "\"";
  if (anchor != "start") o << " text-anchor=\"" << anchor << "\"";
  if (!extra.empty()) o << " " << extra;
  o << ">" << XmlEscape(text) << "</text>";
  return o.str();
}

// Splits items into rows no wider than width (each item's width given).
std::vector<std::vector<size_t>> WrapRows(const std::vector<double>& widths, double width) {
  std::vector<std::vector<size_t>> rows;
  double used = 0;
  for (size_t i = 0; i < widths.size(); ++i) {
    if (rows.empty() || (used + widths[i] > width && !rows.back().empty())) {
      rows.emplace_back();
      used = 0;
    }
    rows.back().push_back(i);
    used += widths[i];
  }
  return rows;
}

}  // namespace

const std::vector<std::string>& Palette() {
  // Yellow comes late: it is the palette's weakest colour on white.
  static const std::vector<std::string> kColors = {"#E69F00", "#56B4E9", "#009E73", "#0072B2",
                                                   "#D55E00", "#CC79A7", "#F0E442", "#777777"};
  return kColors;
}

std::string XmlEscape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        // Control characters are not allowed in XML 1.0; drop them.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') break;
        out += c;
    }
  }
  return out;
}

std::string FormatTick(double v) {
  if (!std::isfinite(v)) return "";
  if (v == 0) return "0";
  const double a = std::fabs(v);
  char buf[32];
  struct Suffix {
    double scale;
    const char* s;
  };
  static const Suffix kSuffixes[] = {{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}};
  if (a >= 1e4) {
    for (const auto& sfx : kSuffixes) {
      if (a >= sfx.scale) {
        std::snprintf(buf, sizeof buf, "%.3g%s", v / sfx.scale, sfx.s);
        return buf;
      }
    }
  }
  if (a < 1e-3) {
    std::snprintf(buf, sizeof buf, "%.2g", v);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::vector<double> LogTicks(double lo, double hi) {
  std::vector<double> ticks;
  if (!(lo > 0) || !(hi > lo) || !std::isfinite(hi)) return ticks;
  const int e0 = static_cast<int>(std::floor(std::log10(lo)));
  const int e1 = static_cast<int>(std::ceil(std::log10(hi)));
  const int decades = e1 - e0;
  const int step = std::max(1, (decades + 7) / 8);
  // Tolerance so 10^k computed with rounding error still counts as in range.
  auto in = [&](double v) { return v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9); };
  const bool fine = std::log10(hi / lo) < 2.0;
  for (int e = e0; e <= e1; ++e) {
    const double base = std::pow(10.0, e);
    if ((e - e0) % step == 0 && in(base)) ticks.push_back(base);
    if (fine) {
      for (double m : {2.0, 5.0}) {
        if (in(base * m)) ticks.push_back(base * m);
      }
    }
  }
  std::sort(ticks.begin(), ticks.end());
  if (ticks.size() < 2) {
    // A narrow range inside one decade: fall back to linear ticks.
    std::vector<double> lin = LinearTicks(lo, hi, 4);
    lin.erase(std::remove_if(lin.begin(), lin.end(), [](double v) { return v <= 0; }), lin.end());
    return lin;
  }
  return ticks;
}

std::vector<double> LinearTicks(double lo, double hi, int target) {
  std::vector<double> ticks;
  if (!std::isfinite(lo) || !std::isfinite(hi) || !(hi > lo) || target < 1) return ticks;
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  const double first = std::ceil(lo / step - 1e-9) * step;
  for (double v = first; v <= hi + step * 1e-9; v += step) {
    ticks.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
    if (ticks.size() > 50) break;
  }
  return ticks;
}

std::string RenderSvg(const PlotSpec& spec) {
  const double W = spec.width, H = spec.height;
  const Box area{82, 44, W - 24, H - 60};
  const std::string id = spec.id.empty() ? "plot" : spec.id;

  // Data ranges over every usable point (and spans on x).
  std::vector<double> xs, ys;
  size_t dropped = 0;
  for (const auto& s : spec.series) {
    for (const auto& p : s.points) {
      if (Usable(p.x, spec.x.scale) && Usable(p.y, spec.y.scale)) {
        xs.push_back(p.x);
        ys.push_back(p.y);
      } else {
        ++dropped;
      }
    }
  }
  for (const auto& sp : spec.spans) {
    xs.push_back(sp.x0);
    xs.push_back(sp.x1);
  }
  if (spec.diagonal) {
    // Same range on both axes so y = x is the 45° line.
    std::vector<double> both = xs;
    both.insert(both.end(), ys.begin(), ys.end());
    xs = both;
    ys = both;
  }
  auto [xlo, xhi] = AxisRange(spec.x, xs);
  auto [ylo, yhi] = AxisRange(spec.y, ys);
  const Mapper mx{spec.x.scale, xlo, xhi, area.x0, area.x1};
  const Mapper my{spec.y.scale, ylo, yhi, area.y1, area.y0};

  std::ostringstream body;
  // Frame and grid.
  body << "<rect x=\"" << Num(area.x0) << "\" y=\"" << Num(area.y0) << "\" width=\"" << Num(area.x1 - area.x0)
       << "\" height=\"" << Num(area.y1 - area.y0)
       << "\" fill=\"#fff\" stroke=\"#444\" stroke-width=\"1\"/>\n";

  // Spans (behind everything else), labels stacked in rows so they do not collide.
  std::vector<Box> span_labels;
  for (size_t i = 0; i < spec.spans.size(); ++i) {
    const Span& sp = spec.spans[i];
    double a = std::clamp(mx(std::max(sp.x0, xlo)), area.x0, area.x1);
    double b = std::clamp(mx(std::min(sp.x1, xhi)), area.x0, area.x1);
    if (b < a) std::swap(a, b);
    // Light fills that stay clear of the vermillion a timeline's line uses.
    static const int kSpanColors[] = {1, 2, 6, 0, 5, 3};
    const std::string& color = Palette()[kSpanColors[i % 6]];
    body << "<rect x=\"" << Num(a) << "\" y=\"" << Num(area.y0) << "\" width=\"" << Num(std::max(b - a, 0.5))
         << "\" height=\"" << Num(area.y1 - area.y0) << "\" fill=\"" << color
         << "\" fill-opacity=\"0.16\" stroke=\"" << color << "\" stroke-opacity=\"0.6\"/>\n";
    if (sp.label.empty()) continue;
    const double w = TextWidth(sp.label, 10);
    for (int row = 0; row < 4; ++row) {
      const double ty = area.y0 + 12 + row * 12;
      double tx = std::clamp(a + 2, area.x0 + 2, area.x1 - w - 2);
      Box box{tx, ty - 10, tx + w, ty + 2};
      bool clash = false;
      for (const auto& o : span_labels) clash = clash || box.Overlaps(o);
      if (clash && row < 3) continue;
      span_labels.push_back(box);
      body << TextSvg(tx, ty, sp.label, "start", "class=\"span-label\" font-size=\"10\"") << "\n";
      break;
    }
  }

  // Ticks and grid lines.
  std::vector<double> xt = spec.x.scale == AxisScale::kLog ? LogTicks(xlo, xhi) : LinearTicks(xlo, xhi);
  std::vector<double> yt = spec.y.scale == AxisScale::kLog ? LogTicks(ylo, yhi) : LinearTicks(ylo, yhi);
  for (double t : xt) {
    const double px = mx(t);
    body << "<line x1=\"" << Num(px) << "\" y1=\"" << Num(area.y0) << "\" x2=\"" << Num(px) << "\" y2=\""
         << Num(area.y1) << "\" class=\"grid\"/>\n";
    body << "<line x1=\"" << Num(px) << "\" y1=\"" << Num(area.y1) << "\" x2=\"" << Num(px) << "\" y2=\""
         << Num(area.y1 + 5) << "\" stroke=\"#444\"/>\n";
    body << TextSvg(px, area.y1 + 18, FormatTick(t), "middle", "class=\"tick\"") << "\n";
  }
  for (double t : yt) {
    const double py = my(t);
    body << "<line x1=\"" << Num(area.x0) << "\" y1=\"" << Num(py) << "\" x2=\"" << Num(area.x1) << "\" y2=\""
         << Num(py) << "\" class=\"grid\"/>\n";
    body << "<line x1=\"" << Num(area.x0 - 5) << "\" y1=\"" << Num(py) << "\" x2=\"" << Num(area.x0)
         << "\" y2=\"" << Num(py) << "\" stroke=\"#444\"/>\n";
    body << TextSvg(area.x0 - 8, py + 4, FormatTick(t), "end", "class=\"tick\"") << "\n";
  }
  // Axis labels.
  body << TextSvg((area.x0 + area.x1) / 2, H - 22,
                  spec.x.label + (spec.x.scale == AxisScale::kLog ? " — log scale" : ""), "middle",
                  "class=\"axis-label\"")
       << "\n";
  const double ymid = (area.y0 + area.y1) / 2;
  body << "<text x=\"16\" y=\"" << Num(ymid)
       << "\" text-anchor=\"middle\" class=\"axis-label\" transform=\"rotate(-90 16 " << Num(ymid) << ")\">"
       << XmlEscape(spec.y.label + (spec.y.scale == AxisScale::kLog ? " — log scale" : "")) << "</text>\n";

  // Series, clipped to the plot area.
  body << "<g clip-path=\"url(#clip-" << XmlEscape(id) << ")\">\n";
  if (spec.diagonal) {
    const double lo = std::max(xlo, ylo), hi = std::min(xhi, yhi);
    if (hi > lo) {
      body << "<line x1=\"" << Num(mx(lo)) << "\" y1=\"" << Num(my(lo)) << "\" x2=\"" << Num(mx(hi))
           << "\" y2=\"" << Num(my(hi))
           << "\" stroke=\"#000\" stroke-width=\"1\" stroke-dasharray=\"2 3\"/>\n";
    }
  }
  struct Placed {
    double x, y;
    std::string label;
  };
  std::vector<Placed> to_label;
  std::vector<Box> obstacles;
  for (size_t si = 0; si < spec.series.size(); ++si) {
    const Series& s = spec.series[si];
    const int ci = s.color >= 0 ? s.color : static_cast<int>(si);
    const std::string& color = Palette()[ci % Palette().size()];
    std::vector<std::pair<double, double>> px;
    for (const auto& p : s.points) {
      if (!Usable(p.x, spec.x.scale) || !Usable(p.y, spec.y.scale)) continue;
      px.emplace_back(mx(p.x), my(p.y));
      if (s.label_points && !p.label.empty())
        to_label.push_back({px.back().first, px.back().second, p.label});
    }
    if (s.kind != SeriesKind::kScatter && px.size() >= 2) {
      body << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\""
           << (s.kind == SeriesKind::kDashed ? "1.8" : "2") << "\"";
      if (s.kind == SeriesKind::kDashed) body << " stroke-dasharray=\"6 4\"";
      body << " points=\"";
      for (size_t i = 0; i < px.size(); ++i)
        body << (i ? " " : "") << Num(px[i].first) << "," << Num(px[i].second);
      body << "\"/>\n";
    }
    if (s.kind == SeriesKind::kScatter || s.kind == SeriesKind::kLineMarkers) {
      const int shape = s.marker >= 0 ? s.marker : static_cast<int>(si);
      for (const auto& [x, y] : px) {
        body << MarkerSvg(shape, x, y, color, s.highlight) << "\n";
        const double r = (s.highlight ? kMarkerR + 1.5 : kMarkerR) + 1;
        obstacles.push_back({x - r, y - r, x + r, y + r});
      }
    }
  }
  body << "</g>\n";

  // Notes in the top-left corner, on a white card so grid lines do not cross them.
  std::vector<std::string> notes = spec.notes;
  if (dropped > 0) {
    notes.push_back(std::to_string(dropped) + " point(s) not drawn (missing, or not positive on a log axis)");
  }
  if (!notes.empty()) {
    double w = 0;
    for (const auto& n : notes) w = std::max(w, TextWidth(n));
    const Box card{area.x0 + 6, area.y0 + 6, area.x0 + 14 + w, area.y0 + 10 + kLabelH * notes.size()};
    body << "<rect x=\"" << Num(card.x0) << "\" y=\"" << Num(card.y0) << "\" width=\""
         << Num(card.x1 - card.x0) << "\" height=\"" << Num(card.y1 - card.y0)
         << "\" fill=\"#fff\" fill-opacity=\"0.85\" stroke=\"#bbb\"/>\n";
    for (size_t i = 0; i < notes.size(); ++i) {
      body << TextSvg(card.x0 + 4, card.y0 + 13 + kLabelH * i, notes[i], "start", "class=\"note\"") << "\n";
    }
    obstacles.push_back(card);
  }

  // Point labels: greedy placement from left to right.
  std::sort(to_label.begin(), to_label.end(),
            [](const Placed& a, const Placed& b) { return a.x != b.x ? a.x < b.x : a.y < b.y; });
  std::vector<Box> placed;
  std::vector<std::string> numbered;
  std::ostringstream labels;
  for (const auto& p : to_label) {
    const double w = TextWidth(p.label) + 2;
    bool done = false;
    for (int ring = 1; ring <= 4 && !done; ++ring) {
      const double d = 7 + (ring - 1) * 13;
      // (dx, dy) of the label box's anchor corner relative to the point.
      const std::pair<double, double> cands[] = {{d, -kLabelH / 2},
                                                 {-d - w, -kLabelH / 2},
                                                 {-w / 2, -d - kLabelH},
                                                 {-w / 2, d},
                                                 {d * 0.7, -d * 0.7 - kLabelH},
                                                 {d * 0.7, d * 0.7},
                                                 {-d * 0.7 - w, -d * 0.7 - kLabelH},
                                                 {-d * 0.7 - w, d * 0.7}};
      for (const auto& [dx, dy] : cands) {
        Box box{p.x + dx, p.y + dy, p.x + dx + w, p.y + dy + kLabelH};
        if (!box.Inside(area)) continue;
        bool clash = false;
        for (const auto& o : placed) clash = clash || box.Overlaps(o);
        for (const auto& o : obstacles) clash = clash || box.Overlaps(o);
        if (clash) continue;
        placed.push_back(box);
        if (ring > 1) {
          // Leader line from the marker's edge to the nearest point of the box.
          const double cx = std::clamp(p.x, box.x0, box.x1), cy = std::clamp(p.y, box.y0, box.y1);
          const double len = std::hypot(cx - p.x, cy - p.y);
          if (len > kMarkerR + 2) {
            const double sx = p.x + (cx - p.x) / len * (kMarkerR + 1),
                         sy = p.y + (cy - p.y) / len * (kMarkerR + 1);
            labels << "<line x1=\"" << Num(sx) << "\" y1=\"" << Num(sy) << "\" x2=\"" << Num(cx) << "\" y2=\""
                   << Num(cy) << "\" class=\"leader\"/>\n";
          }
        }
        labels << TextSvg(box.x0 + 1, box.y1 - 3, p.label, "start", "class=\"point-label\"") << "\n";
        done = true;
        break;
      }
    }
    if (!done) {
      numbered.push_back(p.label);
      const std::string num = std::to_string(numbered.size());
      labels << TextSvg(p.x + 6, p.y - 6, num, "start", "class=\"point-number\"") << "\n";
    }
  }
  body << labels.str();

  // Legend and numbered-label key below the plot, wrapped into rows.
  std::ostringstream below;
  double row_y = H + 2;
  std::vector<double> widths;
  std::vector<size_t> legend_items;
  for (size_t si = 0; si < spec.series.size(); ++si) {
    if (spec.series[si].name.empty()) continue;
    legend_items.push_back(si);
    widths.push_back(34 + TextWidth(spec.series[si].name));
  }
  if (spec.diagonal) widths.push_back(34 + TextWidth("y = x (perfect prediction)"));
  const auto rows = WrapRows(widths, W - 40);
  for (const auto& row : rows) {
    double x = 20;
    for (size_t k : row) {
      const double cy = row_y - 4;
      if (k < legend_items.size()) {
        const size_t si = legend_items[k];
        const Series& s = spec.series[si];
        const int ci = s.color >= 0 ? s.color : static_cast<int>(si);
        const std::string& color = Palette()[ci % Palette().size()];
        if (s.kind != SeriesKind::kScatter) {
          below << "<line x1=\"" << Num(x) << "\" y1=\"" << Num(cy) << "\" x2=\"" << Num(x + 24) << "\" y2=\""
                << Num(cy) << "\" stroke=\"" << color << "\" stroke-width=\"2\""
                << (s.kind == SeriesKind::kDashed ? " stroke-dasharray=\"6 4\"" : "") << "/>\n";
        }
        if (s.kind == SeriesKind::kScatter || s.kind == SeriesKind::kLineMarkers) {
          below << MarkerSvg(s.marker >= 0 ? s.marker : static_cast<int>(si), x + 12, cy, color, s.highlight)
                << "\n";
        }
        below << TextSvg(x + 30, row_y, s.name, "start", "class=\"legend\"") << "\n";
      } else {
        below << "<line x1=\"" << Num(x) << "\" y1=\"" << Num(cy) << "\" x2=\"" << Num(x + 24) << "\" y2=\""
              << Num(cy) << "\" stroke=\"#000\" stroke-dasharray=\"2 3\"/>\n";
        below << TextSvg(x + 30, row_y, "y = x (perfect prediction)", "start", "class=\"legend\"") << "\n";
      }
      x += widths[k];
    }
    row_y += kRowPx;
  }
  if (!numbered.empty()) {
    std::vector<double> nw;
    std::vector<std::string> items;
    for (size_t i = 0; i < numbered.size(); ++i) {
      items.push_back(std::to_string(i + 1) + " = " + numbered[i]);
      nw.push_back(TextWidth(items.back()) + 16);
    }
    for (const auto& row : WrapRows(nw, W - 40)) {
      double x = 20;
      for (size_t k : row) {
        below << TextSvg(x, row_y, items[k], "start", "class=\"legend\"") << "\n";
        x += nw[k];
      }
      row_y += kRowPx;
    }
  }
  const double total_h = row_y + 4;

  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" id=\"" << XmlEscape(id)
    << "\" viewBox=\"0 0 " << Num(W) << " " << Num(total_h) << "\" width=\"" << Num(W) << "\" height=\""
    << Num(total_h) << "\" role=\"img\" aria-label=\"" << XmlEscape(spec.title) << "\">\n";
  o << "<title>" << XmlEscape(spec.title) << "</title>\n";
  o << "<defs><clipPath id=\"clip-" << XmlEscape(id) << "\"><rect x=\"" << Num(area.x0) << "\" y=\""
    << Num(area.y0) << "\" width=\"" << Num(area.x1 - area.x0) << "\" height=\"" << Num(area.y1 - area.y0)
    << "\"/></clipPath></defs>\n";
  o << "<rect x=\"0\" y=\"0\" width=\"" << Num(W) << "\" height=\"" << Num(total_h)
    << "\" fill=\"#fafafa\"/>\n";
  o << TextSvg(area.x0, 24, spec.title, "start", "class=\"plot-title\"") << "\n";
  o << body.str() << below.str();
  o << "</svg>\n";
  return o.str();
}

}  // namespace wattlab::report
