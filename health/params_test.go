package health

import (
	"strings"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/internal/keyerr"
)

// TestValidateNamesEveryKeyInOrder: every bad setting is reported, each
// naming its policy key, in the same order every time, so that `check`
// shows a broken policy the same way twice.
func TestValidateNamesEveryKeyInOrder(t *testing.T) {
	p := DefaultParams()
	p.EvalInterval = time.Millisecond
	p.SmoothingUp = 2
	p.DownThreshold, p.UpThreshold = 80, 60
	p.DownAfter = 0
	p.Score[0].Good = p.Score[0].Bad
	want := "evaluation_interval,smoothing_up,down_threshold,down_after,score." + Kind(0).Info().ScoreKey
	for range 20 {
		keys, others := keyerr.Split(p.Validate())
		var got []string
		for _, k := range keys {
			got = append(got, k.Key)
		}
		if strings.Join(got, ",") != want || len(others) > 0 {
			t.Fatalf("keys %v (others %v), want %s", got, others, want)
		}
	}
}
