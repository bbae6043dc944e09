package prom

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// queryState remembers how a query went last round, so that a Prometheus
// that stays down, or a query that keeps returning bad series, is logged
// once when it starts and once when it ends, not every round.
type queryState struct {
	failing      bool
	failedRounds int
	dropReasons  string // reasons of the last round's drops, "" for none
}

// note logs what changed since the last round for the query key.
func (s *Source) note(key, expr string, err error, drops map[string]int) {
	st := s.states[key]
	switch {
	case err != nil && !st.failing:
		s.log.Warn("prometheus query failing; its signals go stale until it recovers",
			"signal", key, "query", expr, "err", err)
	case err == nil && st.failing:
		s.log.Info("prometheus query recovered", "signal", key, "failed_rounds", st.failedRounds)
	}
	if err != nil {
		st.failing = true
		st.failedRounds++
		// A failed round says nothing about the series, so the drop
		// state waits for a round that has them.
		return
	}
	st.failing, st.failedRounds = false, 0
	// Only the reasons are compared with the last round: counts that
	// merely change as CDNs come and go are not worth a log line.
	reasons, summary := dropSummary(drops)
	switch {
	case reasons != "" && reasons != st.dropReasons:
		s.log.Warn("prometheus query returns unusable series; they are ignored",
			"signal", key, "query", expr, "dropped", summary)
	case reasons == "" && st.dropReasons != "":
		s.log.Info("prometheus query no longer returns unusable series", "signal", key)
	}
	st.dropReasons = reasons
}

// dropSummary lists the reasons with a count ("duplicate no_cdn"), and
// them with their counts ("duplicate=2 no_cdn=1").
func dropSummary(drops map[string]int) (reasons, summary string) {
	var rs, ss []string
	for _, r := range slices.Sorted(maps.Keys(drops)) {
		if drops[r] > 0 {
			rs = append(rs, r)
			ss = append(ss, fmt.Sprintf("%s=%d", r, drops[r]))
		}
	}
	return strings.Join(rs, " "), strings.Join(ss, " ")
}
