package rrl

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// What the responses counter counts, by its action label. would_limit is
// a response that log_only let through but would otherwise have limited.
const (
	countPass = iota
	countDrop
	countSlip
	countWouldLimit
	numCounts
)

var countNames = [numCounts]string{"pass", "drop", "slip", "would_limit"}

// The counters are spread over shards by key so that cores answering
// different clients do not fight over one cache line for every response,
// as they would over a single prometheus.Counter; scrapes add them up.
const countShards = 64

type countShard struct {
	n [numCounts]atomic.Uint64
	// Pad to 128 bytes: two shards' counters are then never within one
	// 64-byte line, wherever the array starts.
	_ [128 - numCounts*8]byte
}

type counts [countShards]countShard

func (c *counts) add(key uint64, which int) {
	c[key%countShards].n[which].Add(1)
}

func (c *counts) total(which int) uint64 {
	var sum uint64
	for i := range c {
		sum += c[i].n[which].Load()
	}
	return sum
}

var (
	responsesDesc = prometheus.NewDesc("cdnsteer_rrl_responses_total",
		"UDP responses seen by response rate limiting, by action (pass: sent; drop: not sent; slip: sent truncated; would_limit: sent under log_only, limited otherwise).",
		[]string{"action"}, nil)
	entriesDesc = prometheus.NewDesc("cdnsteer_rrl_table_entries",
		"Keys (client network and response class) whose rate-limiting buckets are not back to full credit.",
		nil, nil)
)

// collector reads the sharded counters and scans the table at scrape
// time, so that the query path never touches a shared metric.
type collector struct{ l *Limiter }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- responsesDesc
	ch <- entriesDesc
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	for i, name := range countNames {
		ch <- prometheus.MustNewConstMetric(responsesDesc, prometheus.CounterValue, float64(c.l.counts.total(i)), name)
	}
	ch <- prometheus.MustNewConstMetric(entriesDesc, prometheus.GaugeValue, float64(c.l.entries()))
}

// entries counts the live buckets (see table.live).
func (l *Limiter) entries() int {
	p := l.policy.Load()
	return p.table.live(uint64(l.clock()/1000), p.rules.window)
}
