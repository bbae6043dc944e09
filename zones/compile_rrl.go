package zones

import "github.com/cdnsteer/cdnsteer/rrl"

// rrl is the [rrl] table as the limiter takes it, or nil when rate
// limiting is off. The limiter's package declares the keys, their
// defaults and their bounds; the file's keys were decoded over the
// defaults.
func (c *compiler) rrl(rc *RRLConfig) *rrl.Config {
	if rc == nil || !rc.Enabled {
		return nil
	}
	c.keyErrors("rrl", "", "rrl.", rc.Validate())
	cfg := rc.Config
	return &cfg
}
