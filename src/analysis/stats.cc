#include "analysis/stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace wattlab::analysis {

double Mean(const std::vector<double>& v) {
  if (v.empty()) return 0;
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

double SampleStdDev(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = Mean(v);
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::vector<double> AverageRanks(const std::vector<double>& v) {
  const size_t n = v.size();
  std::vector<size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> ranks(n);
  size_t i = 0;
  while (i < n) {
    size_t j = i;
    while (j + 1 < n && v[idx[j + 1]] == v[idx[i]]) ++j;
    // Positions i..j (0-based) hold ranks i+1..j+1; ties share their mean.
    const double r = 0.5 * static_cast<double>(i + j) + 1.0;
    for (size_t k = i; k <= j; ++k) ranks[idx[k]] = r;
    i = j + 1;
  }
  return ranks;
}

namespace {
bool AllFinite(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
}
}  // namespace

std::optional<double> Pearson(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size() || x.size() < 3 || !AllFinite(x) || !AllFinite(y)) return std::nullopt;
  const double mx = Mean(x), my = Mean(y);
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  // A constant column has no correlation. The threshold is relative to the
  // column's own magnitude (sum of squares), so round-off in a constant
  // column is caught while tiny but genuinely varying values are not.
  double qx = 0, qy = 0;
  for (size_t i = 0; i < x.size(); ++i) qx += x[i] * x[i], qy += y[i] * y[i];
  if (sxx <= 1e-20 * qx || syy <= 1e-20 * qy) return std::nullopt;
  double r = sxy / std::sqrt(sxx * syy);
  return std::clamp(r, -1.0, 1.0);
}

std::optional<double> Spearman(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size() || x.size() < 3 || !AllFinite(x) || !AllFinite(y)) return std::nullopt;
  return Pearson(AverageRanks(x), AverageRanks(y));
}

namespace {
// Continued fraction for I_x(a,b) (Numerical Recipes' betacf, modified Lentz).
double BetaContinuedFraction(double a, double b, double x) {
  constexpr int kMaxIter = 500;
  constexpr double kEps = 1e-15, kTiny = 1e-300;
  const double qab = a + b, qap = a + 1, qam = a - 1;
  double c = 1, d = 1 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= kMaxIter; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1) < kEps) break;
  }
  return h;
}
}  // namespace

double RegularizedIncompleteBeta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double ln_front = std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  const double front = std::exp(ln_front);
  // The fraction converges fast for x < (a+1)/(a+b+2); use symmetry otherwise.
  if (x < (a + 1) / (a + b + 2)) return front * BetaContinuedFraction(a, b, x) / a;
  return 1 - front * BetaContinuedFraction(b, a, 1 - x) / b;
}

double StudentTTwoSidedP(double t, double dof) {
  if (!std::isfinite(t)) return 0;
  const double x = dof / (dof + t * t);
  return std::clamp(RegularizedIncompleteBeta(dof / 2, 0.5, x), 0.0, 1.0);
}

std::optional<double> CorrelationPValue(double r, int64_t n) {
  if (n < 3 || !std::isfinite(r)) return std::nullopt;
  const double dof = static_cast<double>(n - 2);
  if (std::fabs(r) >= 1) return 0.0;  // perfect correlation: t is infinite
  const double t = r * std::sqrt(dof / (1 - r * r));
  return StudentTTwoSidedP(t, dof);
}

double NormalQuantile(double p) {
  // Acklam's approximation (relative error < 1.2e-9), then one Halley step.
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01,  -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  if (p <= 0) return -INFINITY;
  if (p >= 1) return INFINITY;
  const double plow = 0.02425, phigh = 1 - plow;
  double x;
  if (p < plow) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= phigh) {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const double q = std::sqrt(-2 * std::log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
  const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

double StudentTQuantile(double p, double dof) {
  if (p == 0.5) return 0;
  if (p < 0.5) return -StudentTQuantile(1 - p, dof);
  // Upper tail: find t > 0 with two-sided p = 2 (1 - p).
  const double target = 2 * (1 - p);
  double lo = 0, hi = 1;
  while (StudentTTwoSidedP(hi, dof) > target && hi < 1e7) hi *= 2;
  for (int i = 0; i < 200 && hi - lo > 1e-13 * std::max(1.0, hi); ++i) {
    const double mid = 0.5 * (lo + hi);
    if (StudentTTwoSidedP(mid, dof) > target) lo = mid; else hi = mid;
  }
  return 0.5 * (lo + hi);
}

std::optional<std::pair<double, double>> FisherZInterval(double r, int64_t n, double level) {
  if (n < 4 || !std::isfinite(r) || std::fabs(r) >= 1) return std::nullopt;
  const double z = std::atanh(r);
  const double se = 1 / std::sqrt(static_cast<double>(n - 3));
  const double q = NormalQuantile(0.5 + level / 2);
  return std::make_pair(std::tanh(z - q * se), std::tanh(z + q * se));
}

namespace {
// Gauss-Jordan inverse with partial pivoting; false when singular.
bool Invert(std::vector<std::vector<double>> m, std::vector<std::vector<double>>* inv) {
  const size_t n = m.size();
  inv->assign(n, std::vector<double>(n, 0));
  for (size_t i = 0; i < n; ++i) (*inv)[i][i] = 1;
  double scale = 0;
  for (auto& row : m)
    for (double v : row) scale = std::max(scale, std::fabs(v));
  if (scale == 0) return false;
  for (size_t col = 0; col < n; ++col) {
    size_t piv = col;
    for (size_t r = col + 1; r < n; ++r)
      if (std::fabs(m[r][col]) > std::fabs(m[piv][col])) piv = r;
    if (std::fabs(m[piv][col]) < 1e-12 * scale) return false;
    std::swap(m[piv], m[col]);
    std::swap((*inv)[piv], (*inv)[col]);
    const double p = m[col][col];
    for (size_t k = 0; k < n; ++k) {
      m[col][k] /= p;
      (*inv)[col][k] /= p;
    }
    for (size_t r = 0; r < n; ++r) {
      if (r == col) continue;
      const double f = m[r][col];
      if (f == 0) continue;
      for (size_t k = 0; k < n; ++k) {
        m[r][k] -= f * m[col][k];
        (*inv)[r][k] -= f * (*inv)[col][k];
      }
    }
  }
  return true;
}
}  // namespace

std::optional<OlsFit> LeastSquares(const std::vector<std::vector<double>>& x, const std::vector<double>& y) {
  const size_t n = y.size();
  if (x.size() != n || n == 0) return std::nullopt;
  const size_t k = x[0].size();
  if (n <= k) return std::nullopt;
  const size_t p = k + 1;
  if (!AllFinite(y)) return std::nullopt;
  // Normal equations on centred columns would be better conditioned, but the
  // designs here are a handful of log features; X'X in double is ample.
  std::vector<std::vector<double>> xtx(p, std::vector<double>(p, 0));
  std::vector<double> xty(p, 0);
  for (size_t i = 0; i < n; ++i) {
    if (x[i].size() != k || !AllFinite(x[i])) return std::nullopt;
    std::vector<double> row(p);
    row[0] = 1;
    for (size_t j = 0; j < k; ++j) row[j + 1] = x[i][j];
    for (size_t a = 0; a < p; ++a) {
      xty[a] += row[a] * y[i];
      for (size_t b = 0; b < p; ++b) xtx[a][b] += row[a] * row[b];
    }
  }
  OlsFit fit;
  if (!Invert(xtx, &fit.xtx_inverse)) return std::nullopt;
  fit.beta.assign(p, 0);
  for (size_t a = 0; a < p; ++a)
    for (size_t b = 0; b < p; ++b) fit.beta[a] += fit.xtx_inverse[a][b] * xty[b];
  const double my = Mean(y);
  double sst = 0;
  for (size_t i = 0; i < n; ++i) {
    double pred = fit.beta[0];
    for (size_t j = 0; j < k; ++j) pred += fit.beta[j + 1] * x[i][j];
    fit.sse += (y[i] - pred) * (y[i] - pred);
    sst += (y[i] - my) * (y[i] - my);
  }
  fit.r2 = sst > 0 ? 1 - fit.sse / sst : 0;
  fit.n = static_cast<int64_t>(n);
  fit.dof = static_cast<int64_t>(n - p);
  return fit;
}

}  // namespace wattlab::analysis
