package rrl

// The bucket arithmetic, kept apart from the table's concurrency.
//
// A bucket is BIND's "account": it earns rate credits a second, each
// response (sent or not) costs one, responses are limited while the
// balance is negative, the balance is capped at one second's credit and
// floored at window seconds' debt. Rather than a balance and a timestamp
// it is stored as one number, its debt d: how far the bucket's virtual
// clock runs ahead of now, in microseconds. The balance is -d/interval
// responses, where interval is the time that earns one credit; passing
// time earns credit by itself (now catches up with the virtual clock),
// and a response adds interval to it. One number fits one word with the
// key's tag, so a bucket updates with a single compare-and-swap.

const (
	microsPerSecond = 1e6
	// creditCap: credit stops accruing at one second's worth, so a new
	// or idle key may send a burst of one second's rate and no more.
	creditCap = microsPerSecond
	// staleSlack is how far past the window a debt may read before it
	// is taken for a stale word (see table.go) rather than a real debt;
	// callers' clocks may differ by a little across goroutines.
	staleSlack = microsPerSecond
)

// rules are the bucket parameters shared by every key of a Limiter.
type rules struct {
	interval [numClasses]int64 // microseconds of credit per response, by class
	window   int64             // the most debt, in microseconds
	slip     uint64            // every slip-th limited response slips; 0 never
}

func newRules(c Config) rules {
	r := rules{window: c.Window.Microseconds(), slip: uint64(c.Slip)}
	for cl := range numClasses {
		rate := c.ResponsesPerSecond
		switch cl {
		case ClassNXDomain:
			rate = c.NXDomainsPerSecond
		case ClassError:
			rate = c.ErrorsPerSecond
		}
		r.interval[cl] = microsPerSecond / int64(rate)
	}
	return r
}

// fresh tells whether a bucket with debt d is as good as never seen: its
// credit is full, or its debt is so old (past the window) that it has
// been earned back.
func fresh(d, window int64) bool {
	return d <= -creditCap || d > window+staleSlack
}

// charge debits one response of class cl from a bucket with debt d and
// slip count n, and returns the bucket's new state and the action. fresh
// is the state of a bucket never seen, or seen so long ago that it has
// earned its full credit back.
func (r *rules) charge(d int64, n uint64, cl Class) (int64, uint64, Action) {
	if fresh(d, r.window) {
		d, n = -creditCap, 0 // full credit; BIND forgets the slip count too
	}
	d += r.interval[cl]
	if d <= 0 {
		return d, n, Pass
	}
	// Limited responses are charged too, down to the floor: a client
	// that keeps flooding stays limited until it slows below the rate
	// for long enough to pay its debt back, at most the window.
	d = min(d, r.window)
	if r.slip == 0 {
		return d, n, Drop
	}
	// The first limited response slips, then every slip-th, as in BIND:
	// a genuine client learns at once that it should use TCP.
	act := Drop
	if n == 0 {
		act = Slip
	}
	return d, (n + 1) % r.slip, act
}
