package zones

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// steeringHash is the SHA-256 of what decides the answers: regions, CDNs,
// policies, the networks and ECS setting of [geo], plans and schedules.
// The instances of a fleet run files that rightly differ where they are
// hosts ([server] addresses, [fleet] instance, listeners, log paths), so
// the file's own hash cannot tell whether two of them steer alike; this
// one can. ok is false when the document cannot be encoded.
func steeringHash(f *File) (h [32]byte, ok bool) {
	b, err := json.Marshal(struct {
		Regions  map[string][]string
		CDN      map[string]CDNConfig
		Policy   map[string]PolicyConfig
		Networks []GeoNetworkConfig
		ECS      *bool
		Plan     []PlanConfig
		Schedule []ScheduleConfig
	}{f.Regions, f.CDN, f.Policy, f.Geo.Network, f.Geo.ECS, f.Plan, f.Schedule})
	if err != nil {
		return h, false
	}
	return sha256.Sum256(b), true
}

// SteeringHashHex is SteeringHash in hexadecimal ("" when it could not be
// computed).
func (s *Snapshot) SteeringHashHex() string {
	if s.SteeringHash == ([32]byte{}) {
		return ""
	}
	return hex.EncodeToString(s.SteeringHash[:])
}
