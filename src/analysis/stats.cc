#include "analysis/stats.h"

#include <Eigen/Dense>
#include <algorithm>
#include <boost/math/distributions/fisher_f.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <limits>
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
// Boost.Math reports a bad argument by returning NaN instead of throwing:
// callers here check their arguments and never see an exception.
using Policy = boost::math::policies::policy<
    boost::math::policies::domain_error<boost::math::policies::ignore_error>,
    boost::math::policies::overflow_error<boost::math::policies::ignore_error>,
    boost::math::policies::pole_error<boost::math::policies::ignore_error>,
    boost::math::policies::evaluation_error<boost::math::policies::ignore_error>>;

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

double StudentTTwoSidedP(double t, double dof) {
  if (std::isnan(t) || !(dof > 0)) return std::numeric_limits<double>::quiet_NaN();
  if (!std::isfinite(t)) return 0;
  const boost::math::students_t_distribution<double, Policy> dist(dof);
  return std::clamp(2 * boost::math::cdf(boost::math::complement(dist, std::fabs(t))), 0.0, 1.0);
}

std::optional<double> CorrelationPValue(double r, int64_t n) {
  if (n < 3 || !std::isfinite(r)) return std::nullopt;
  const double dof = static_cast<double>(n - 2);
  if (std::fabs(r) >= 1) return 0.0;  // perfect correlation: t is infinite
  const double t = r * std::sqrt(dof / (1 - r * r));
  return StudentTTwoSidedP(t, dof);
}

double NormalQuantile(double p) {
  if (p <= 0) return -INFINITY;
  if (p >= 1) return INFINITY;
  return boost::math::quantile(boost::math::normal_distribution<double, Policy>(), p);
}

double StudentTQuantile(double p, double dof) {
  if (!(dof > 0) || !(p >= 0 && p <= 1)) return std::numeric_limits<double>::quiet_NaN();
  if (p == 0) return -INFINITY;
  if (p == 1) return INFINITY;
  return boost::math::quantile(boost::math::students_t_distribution<double, Policy>(dof), p);
}

double FUpperTailP(double f, double dof1, double dof2) {
  if (std::isnan(f) || !(dof1 > 0) || !(dof2 > 0)) return std::numeric_limits<double>::quiet_NaN();
  if (f <= 0) return 1;
  if (!std::isfinite(f)) return 0;
  const boost::math::fisher_f_distribution<double, Policy> dist(dof1, dof2);
  return std::clamp(boost::math::cdf(boost::math::complement(dist, f)), 0.0, 1.0);
}

std::optional<std::pair<double, double>> FisherZInterval(double r, int64_t n, double level) {
  if (n < 4 || !std::isfinite(r) || std::fabs(r) >= 1) return std::nullopt;
  const double z = std::atanh(r);
  const double se = 1 / std::sqrt(static_cast<double>(n - 3));
  const double q = NormalQuantile(0.5 + level / 2);
  return std::make_pair(std::tanh(z - q * se), std::tanh(z + q * se));
}

std::optional<OlsFit> LeastSquares(const std::vector<std::vector<double>>& x, const std::vector<double>& y) {
  const size_t n = y.size();
  if (x.size() != n || n == 0) return std::nullopt;
  const size_t k = x[0].size();
  if (n <= k) return std::nullopt;
  const size_t p = k + 1;
  if (!AllFinite(y)) return std::nullopt;
  Eigen::MatrixXd a(n, p);
  Eigen::VectorXd b(n);
  for (size_t i = 0; i < n; ++i) {
    if (x[i].size() != k || !AllFinite(x[i])) return std::nullopt;
    a(i, 0) = 1;
    for (size_t j = 0; j < k; ++j) a(i, j + 1) = x[i][j];
    b(i) = y[i];
  }
  // SVD rather than the normal equations: X'X squares the condition number,
  // and the singular values say directly when a feature does not vary (or
  // two are collinear). A design whose smallest singular value is below
  // kRankTolerance of the largest is singular: its coefficients would be
  // round-off, not a fit.
  constexpr double kRankTolerance = 1e-6;
  const Eigen::JacobiSVD<Eigen::MatrixXd> svd(a, Eigen::ComputeThinU | Eigen::ComputeThinV);
  const Eigen::VectorXd& s = svd.singularValues();
  if (!(s(0) > 0) || s(p - 1) < kRankTolerance * s(0)) return std::nullopt;
  const Eigen::VectorXd inv_s = s.cwiseInverse();
  const Eigen::VectorXd beta = svd.matrixV() * inv_s.asDiagonal() * (svd.matrixU().transpose() * b);
  // (X'X)^-1 = V S^-2 V', for prediction intervals.
  const Eigen::MatrixXd xtx_inv = svd.matrixV() * inv_s.cwiseAbs2().asDiagonal() * svd.matrixV().transpose();
  OlsFit fit;
  fit.beta.assign(beta.data(), beta.data() + p);
  fit.xtx_inverse.assign(p, std::vector<double>(p));
  for (size_t r = 0; r < p; ++r)
    for (size_t c = 0; c < p; ++c)
      fit.xtx_inverse[r][c] = xtx_inv(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c));
  const Eigen::VectorXd resid = b - a * beta;
  fit.sse = resid.squaredNorm();
  const double sst = (b.array() - b.mean()).matrix().squaredNorm();
  fit.r2 = sst > 0 ? 1 - fit.sse / sst : 0;
  fit.n = static_cast<int64_t>(n);
  fit.dof = static_cast<int64_t>(n - p);
  if (k > 0 && fit.dof > 0 && sst > 0 && fit.sse > 0) {
    const double f = ((sst - fit.sse) / static_cast<double>(k)) / (fit.sse / static_cast<double>(fit.dof));
    fit.f_statistic = f;
    fit.f_p = FUpperTailP(f, static_cast<double>(k), static_cast<double>(fit.dof));
  }
  return fit;
}

std::optional<PowerLaw> FitPowerLaw(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size()) return std::nullopt;
  std::vector<std::vector<double>> lx;
  std::vector<double> ly;
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i] > 0 && y[i] > 0 && std::isfinite(x[i]) && std::isfinite(y[i])) {
      lx.push_back({std::log10(x[i])});
      ly.push_back(std::log10(y[i]));
    }
  }
  if (ly.size() < 2) return std::nullopt;
  auto fit = LeastSquares(lx, ly);
  if (!fit || !std::isfinite(fit->beta[0]) || !std::isfinite(fit->beta[1])) return std::nullopt;
  PowerLaw law;
  law.log10_coefficient = fit->beta[0];
  law.exponent = fit->beta[1];
  law.n = fit->n;
  law.r2 = fit->r2;
  return law;
}

std::optional<std::vector<double>> NonNegativeLeastSquares(const std::vector<std::vector<double>>& a,
                                                           const std::vector<double>& b) {
  const size_t n = b.size();
  if (a.size() != n || n == 0 || !AllFinite(b)) return std::nullopt;
  const size_t k = a[0].size();
  if (k == 0) return std::nullopt;
  Eigen::MatrixXd m(n, k);
  Eigen::VectorXd y(n);
  for (size_t i = 0; i < n; ++i) {
    if (a[i].size() != k || !AllFinite(a[i])) return std::nullopt;
    for (size_t j = 0; j < k; ++j) m(i, j) = a[i][j];
    y(i) = b[i];
  }
  const double tol = 1e-12 * std::max(1.0, m.cwiseAbs().maxCoeff() * y.cwiseAbs().maxCoeff());
  std::vector<bool> passive(k, false);
  Eigen::VectorXd x = Eigen::VectorXd::Zero(k);
  // Least squares on the passive columns, the others held at zero.
  auto solve = [&]() {
    std::vector<Eigen::Index> cols;
    for (size_t j = 0; j < k; ++j)
      if (passive[j]) cols.push_back(static_cast<Eigen::Index>(j));
    Eigen::MatrixXd sub(n, cols.size());
    for (size_t c = 0; c < cols.size(); ++c) sub.col(static_cast<Eigen::Index>(c)) = m.col(cols[c]);
    const Eigen::VectorXd s = sub.colPivHouseholderQr().solve(y);
    Eigen::VectorXd z = Eigen::VectorXd::Zero(k);
    for (size_t c = 0; c < cols.size(); ++c) z(cols[c]) = s(static_cast<Eigen::Index>(c));
    return z;
  };
  for (size_t outer = 0; outer < 3 * k + 3; ++outer) {
    const Eigen::VectorXd w = m.transpose() * (y - m * x);
    Eigen::Index best = -1;
    for (size_t j = 0; j < k; ++j)
      if (!passive[j] && w(static_cast<Eigen::Index>(j)) > tol &&
          (best < 0 || w(static_cast<Eigen::Index>(j)) > w(best)))
        best = static_cast<Eigen::Index>(j);
    if (best < 0) break;
    passive[static_cast<size_t>(best)] = true;
    for (size_t inner = 0; inner < 3 * k + 3; ++inner) {
      const Eigen::VectorXd z = solve();
      bool feasible = true;
      for (size_t j = 0; j < k; ++j)
        if (passive[j] && z(static_cast<Eigen::Index>(j)) <= 0) feasible = false;
      if (feasible) {
        x = z;
        break;
      }
      // Step from x toward z as far as stays feasible; the columns that hit zero leave.
      double alpha = 1;
      for (size_t j = 0; j < k; ++j) {
        const auto jj = static_cast<Eigen::Index>(j);
        if (passive[j] && z(jj) <= 0) alpha = std::min(alpha, x(jj) / (x(jj) - z(jj)));
      }
      x += alpha * (z - x);
      for (size_t j = 0; j < k; ++j)
        if (passive[j] && x(static_cast<Eigen::Index>(j)) <= tol) {
          passive[j] = false;
          x(static_cast<Eigen::Index>(j)) = 0;
        }
    }
  }
  std::vector<double> out(x.data(), x.data() + k);
  for (double& v : out) v = std::max(0.0, v);
  return out;
}

double PowerLaw::At(double x) const { return std::pow(10.0, log10_coefficient + exponent * std::log10(x)); }

}  // namespace wattlab::analysis
