package health

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// dropQueue hands records to one writer goroutine (the decision log's, the
// signal log's) and never blocks the sender, the engine: when the writer
// falls behind, or after close, a record is dropped and counted.
type dropQueue[T any] struct {
	ch      chan T
	done    chan struct{} // closed by the writer when ch is drained
	dropped prometheus.Counter

	closeMu sync.RWMutex // guards closed against put sending on a closed channel
	closed  bool
}

func (q *dropQueue[T]) init(size int, dropped prometheus.Counter) {
	q.ch, q.done, q.dropped = make(chan T, size), make(chan struct{}), dropped
}

func (q *dropQueue[T]) put(v T) {
	q.closeMu.RLock()
	defer q.closeMu.RUnlock()
	if q.closed {
		q.dropped.Inc()
		return
	}
	select {
	case q.ch <- v:
	default:
		q.dropped.Inc()
	}
}

// close stops taking records and waits until the writer has written what
// was queued; it is false when the queue was closed already.
func (q *dropQueue[T]) close() bool {
	q.closeMu.Lock()
	if q.closed {
		q.closeMu.Unlock()
		return false
	}
	q.closed = true
	close(q.ch)
	q.closeMu.Unlock()
	<-q.done
	return true
}
