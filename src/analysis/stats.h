// Statistics used by the analysis: correlation, ranks, the t, F and normal
// distributions, least squares and a power-law fit. Pure functions over
// vectors; values computed here are tested against scipy
// (tests/fixtures/analysis/). The distributions are Boost.Math's and least
// squares is Eigen's SVD: wrapped here so no other file includes either.
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

double Mean(const std::vector<double>& v);          // 0 for empty
double SampleStdDev(const std::vector<double>& v);  // 0 for n < 2
double Median(std::vector<double> v);               // 0 for empty

// Ranks 1..n; tied values get the average of the ranks they span.
std::vector<double> AverageRanks(const std::vector<double>& v);

// REQUIRES: x.size() == y.size(). nullopt when n < 3, a column is constant
// or a value is not finite.
std::optional<double> Pearson(const std::vector<double>& x, const std::vector<double>& y);
std::optional<double> Spearman(const std::vector<double>& x, const std::vector<double>& y);

// Two-sided p-value of Student's t with dof degrees of freedom; NaN when
// dof <= 0 or t is NaN.
double StudentTTwoSidedP(double t, double dof);
// Two-sided p-value for a correlation r from n points (t = r sqrt((n-2)/(1-r^2))).
std::optional<double> CorrelationPValue(double r, int64_t n);
// Fisher z confidence interval for a Pearson r (n >= 4), level e.g. 0.95.
std::optional<std::pair<double, double>> FisherZInterval(double r, int64_t n, double level = 0.95);
// Quantile of the standard normal; -inf / +inf at p = 0 / 1.
double NormalQuantile(double p);
// Quantile of Student's t with dof degrees of freedom; NaN when dof <= 0.
double StudentTQuantile(double p, double dof);
// Upper-tail probability P(F > f) of the F distribution (dof1, dof2); NaN
// when a dof is not positive.
double FUpperTailP(double f, double dof1, double dof2);

// Ordinary least squares with intercept: y = b0 + X b. X is row-major, n rows
// of k features. Returns nullopt when n <= k, a value is not finite or the
// design is singular (a feature that does not vary, collinear features).
struct OlsFit {
  std::vector<double> beta;                      // k + 1, intercept first
  std::vector<std::vector<double>> xtx_inverse;  // (k+1) x (k+1)
  double sse = 0;
  double r2 = 0;  // 1 - SSE/SST; 0 when SST == 0
  int64_t n = 0, dof = 0;
  // Overall F test of the regression (every slope zero): F = (SSR/k) /
  // (SSE/dof) and its p-value; absent with no dof, no slope, or a perfect fit.
  std::optional<double> f_statistic, f_p;
};
std::optional<OlsFit> LeastSquares(const std::vector<std::vector<double>>& x, const std::vector<double>& y);

// Non-negative least squares (Lawson and Hanson's active set): the x >= 0
// minimising |A x - b|, A row-major (n rows of k). nullopt when the shapes
// disagree or a value is not finite. Columns never used stay 0.
std::optional<std::vector<double>> NonNegativeLeastSquares(const std::vector<std::vector<double>>& a,
                                                           const std::vector<double>& b);

// A power law y = 10^log10_coefficient x^exponent, fitted by least squares on
// (log10 x, log10 y): the dashed line of the report's log-log plots.
struct PowerLaw {
  double exponent = 0, log10_coefficient = 0;
  double r2 = 0;  // in log space
  int64_t n = 0;  // points used (x > 0 and y > 0)
  double At(double x) const;
};
// Points with a non-positive or non-finite coordinate are left out; nullopt
// with fewer than 2 points left or when every x is the same.
std::optional<PowerLaw> FitPowerLaw(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace wattlab::analysis
