package health

import (
	"fmt"

	"github.com/cdnsteer/cdnsteer/internal/keyerr"
)

// Defaults of the capacity controller's keys (capacity.go).
const (
	// DefaultCapacityDeadBand is ±5 % of the commit around capacity_soft:
	// a CDN's measured load wobbles by a few per cent with the audience
	// and the telemetry, which should move nobody.
	DefaultCapacityDeadBand = 0.05
	// DefaultCapacityMaxMove moves at most a quarter of a CDN's share
	// per TTL for capacity: the kick-off spike adds about a tenth of the
	// audience per TTL, well within it.
	DefaultCapacityMaxMove = 0.25
	// DefaultFollowShare assumes every viewer follows a new answer
	// within a TTL, as players that resolve per segment do.
	DefaultFollowShare = 1.0
)

func (p *Params) setCapacityDefaults() {
	p.CapacityDeadBand = DefaultCapacityDeadBand
	p.CapacityMaxMove = DefaultCapacityMaxMove
	p.FollowShare = DefaultFollowShare
}

// validateCapacity checks the controller's keys; Validate has already
// made sure they are finite.
func (p *Params) validateCapacity() []error {
	var errs []error
	bad := func(key string, related []string, format string, args ...any) {
		errs = append(errs, &keyerr.Error{Key: key, Related: related, Msg: fmt.Sprintf(format, args...)})
	}
	if !(p.CapacityDeadBand >= 0 && p.CapacityDeadBand < p.CapacitySoft) {
		bad("capacity_dead_band", []string{"capacity_soft"}, "%g is outside 0 up to capacity_soft (%g)", p.CapacityDeadBand, p.CapacitySoft)
	}
	if !(p.CapacityMaxMove > 0 && p.CapacityMaxMove <= 1) {
		bad("capacity_max_move", nil, "%g is outside (0, 1]", p.CapacityMaxMove)
	}
	if !(p.FollowShare > 0 && p.FollowShare <= 1) {
		bad("follow_share", nil, "%g is outside (0, 1]", p.FollowShare)
	}
	return errs
}

func (p *Params) capacityNumbers() []paramNumber {
	return []paramNumber{{"capacity_dead_band", p.CapacityDeadBand}, {"capacity_max_move", p.CapacityMaxMove}, {"follow_share", p.FollowShare}}
}
