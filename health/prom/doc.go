// Package prom feeds the health engine from a Prometheus server: it runs
// the policy's PromQL instant queries on a fixed interval and turns every
// series of the results into a health.Signal. Several cdnsteer instances
// that read the same Prometheus steer from one shared view of the CDNs,
// where their own probes would each see a slightly different one.
//
// A failed query yields no signals at all, never zeros: the engine treats
// missing signals as stale, which is the truth when Prometheus is down.
package prom
