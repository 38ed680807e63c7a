// Package bench compares the mmstats writer with a raw atomic add on a
// mapped page and with github.com/prometheus/client_golang, measured in
// the same run. It is a module of its own so that the library never
// depends on Prometheus. scripts/bench runs it and prints the ratios.
package bench
