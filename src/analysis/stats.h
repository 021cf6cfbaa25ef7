// Statistics used by the analysis: correlation, ranks, the t and normal
// distributions, least squares. Pure functions over vectors; values computed
// here are tested against scipy (tests/fixtures/analysis/).
//
// Functions return std::nullopt (never NaN) when the statistic is undefined:
// fewer points than needed, a constant column, or a non-finite input.
// Thread-safety: pure and reentrant.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace wattlab::analysis {

double Mean(const std::vector<double>& v);                     // 0 for empty
double SampleStdDev(const std::vector<double>& v);             // 0 for n < 2
double Median(std::vector<double> v);                          // 0 for empty

// Ranks 1..n; tied values get the average of the ranks they span.
std::vector<double> AverageRanks(const std::vector<double>& v);

// REQUIRES: x.size() == y.size(). nullopt when n < 3, a column is constant
// or a value is not finite.
std::optional<double> Pearson(const std::vector<double>& x, const std::vector<double>& y);
std::optional<double> Spearman(const std::vector<double>& x, const std::vector<double>& y);

// Regularized incomplete beta I_x(a, b) (continued fraction, Lentz).
// REQUIRES: a > 0, b > 0, 0 <= x <= 1.
double RegularizedIncompleteBeta(double a, double b, double x);
// Two-sided p-value of Student's t with dof degrees of freedom.
double StudentTTwoSidedP(double t, double dof);
// Two-sided p-value for a correlation r from n points (t = r sqrt((n-2)/(1-r^2))).
std::optional<double> CorrelationPValue(double r, int64_t n);
// Fisher z confidence interval for a Pearson r (n >= 4), level e.g. 0.95.
std::optional<std::pair<double, double>> FisherZInterval(double r, int64_t n, double level = 0.95);
// Quantile of the standard normal (Acklam's rational approximation, refined).
double NormalQuantile(double p);
// Quantile of Student's t (bisection on StudentTTwoSidedP).
double StudentTQuantile(double p, double dof);

// Ordinary least squares with intercept: y = b0 + X b. X is row-major, n rows
// of k features. Returns nullopt when n <= k or X'X is singular.
struct OlsFit {
  std::vector<double> beta;                       // k + 1, intercept first
  std::vector<std::vector<double>> xtx_inverse;   // (k+1) x (k+1)
  double sse = 0;
  double r2 = 0;       // 1 - SSE/SST; 0 when SST == 0
  int64_t n = 0, dof = 0;
};
std::optional<OlsFit> LeastSquares(const std::vector<std::vector<double>>& x, const std::vector<double>& y);

}  // namespace wattlab::analysis
