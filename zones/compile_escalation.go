package zones

import "github.com/cdnsteer/cdnsteer/health/escalation"

// escalation is the [escalation] table, or nil when the file has none.
// The escalation package declares its keys and checks them; what they
// name (Alertmanager addresses, label names) needs nothing else of the
// policy.
func (c *compiler) escalation(ec *escalation.Config) *escalation.Config {
	if ec == nil {
		return nil
	}
	c.keyErrors("escalation", "", "escalation.", ec.Validate())
	out := *ec
	return &out
}
