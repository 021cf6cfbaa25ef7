// A small SVG plotting module for the report: scatter and line series on
// linear or log axes, a fitted line, shaded spans (a run's windows), notes
// (ρ, fit), a legend, and point labels placed so they do not overlap.
//
// Output is plain SVG 1.1 text meant to be inlined into HTML (no scripts, no
// external fonts or references), well formed as XML. Colours come from the
// Okabe-Ito palette, which stays distinguishable for the common forms of
// colour blindness; series also differ by marker shape so the plot survives
// greyscale printing.
//
// Label placement: labels are placed greedily (points sorted by x) at the
// first of a ring of candidate positions, near then further out with a leader
// line, whose box overlaps no placed label, no marker and stays inside the
// plot area. A label that finds no place is replaced by a number beside its
// marker and listed under the plot ("3 = densenet121"), so 16+ models never
// pile up into unreadable text.
//
// Non-finite values, and values <= 0 on a log axis, are dropped (and counted
// in a note) rather than written as NaN into the SVG.
//
// Thread-safety: pure functions over values.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace wattlab::report {

enum class AxisScale { kLinear, kLog };

struct Axis {
  Axis() = default;
  Axis(std::string label_text, AxisScale axis_scale, bool zero = false)
      : label(std::move(label_text)), scale(axis_scale), include_zero(zero) {}
  std::string label;  // with its unit: "energy per sample (J)"
  AxisScale scale = AxisScale::kLinear;
  std::optional<double> min, max;  // forced range; otherwise from the data
  bool include_zero = false;       // linear axes: stretch the range to 0
};

struct PlotPoint {
  double x = 0, y = 0;
  std::string label;  // drawn when the series labels its points
};

enum class SeriesKind {
  kScatter,      // markers only
  kLine,         // solid line, no markers
  kLineMarkers,  // solid line with markers
  kDashed,       // dashed line (fits, references, predictions)
};

struct Series {
  Series() = default;
  Series(std::string series_name, SeriesKind series_kind, std::vector<PlotPoint> pts, bool labels,
         int color_index, int marker_shape, bool highlighted = false)
      : name(std::move(series_name)),
        kind(series_kind),
        points(std::move(pts)),
        label_points(labels),
        color(color_index),
        marker(marker_shape),
        highlight(highlighted) {}
  std::string name;  // legend entry; empty: not in the legend
  SeriesKind kind = SeriesKind::kScatter;
  std::vector<PlotPoint> points;
  bool label_points = false;
  int color = -1;          // palette index; -1: the series' position
  int marker = -1;         // 0 circle, 1 square, 2 triangle, 3 diamond; -1: position
  bool highlight = false;  // larger markers with a dark ring (Pareto front)
};

struct Span {
  double x0 = 0, x1 = 0;
  std::string label;
};

struct PlotSpec {
  std::string id;     // used for element ids; [a-z0-9-]
  std::string title;  // drawn above the plot
  Axis x, y;
  std::vector<Series> series;
  std::vector<Span> spans;
  std::vector<std::string> notes;  // short lines drawn in the top-left corner
  bool diagonal = false;           // y = x reference (predicted vs measured)
  int width = 960, height = 500;
};

// Renders the plot as an <svg> element (with a viewBox, so it scales).
std::string RenderSvg(const PlotSpec& spec);

// The Okabe-Ito palette without black: orange, sky blue, bluish green, blue,
// vermillion, reddish purple, yellow, grey (index 7 is the neutral grey).
const std::vector<std::string>& Palette();

// Tick positions. Log: decades, thinned to at most ~8, with 2 and 5 added
// when the range spans under two decades. Linear: 1-2-5 steps, ~6 ticks.
std::vector<double> LogTicks(double lo, double hi);
std::vector<double> LinearTicks(double lo, double hi, int target = 6);
// Tick text: "0.001", "0.25", "10", "100k", "1M", "2.5G", "1e-05".
std::string FormatTick(double v);

// Escapes text for XML/HTML element content and attribute values.
std::string XmlEscape(const std::string& s);

}  // namespace wattlab::report
