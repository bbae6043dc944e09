package rrl

// Class is what kind of response is being accounted. It decides which
// parts of the response make up the key, and which rate applies.
type Class uint8

// The classes. Which name to pass with each is part of the class: it is
// what makes a flood of different queries share one bucket.
const (
	// ClassAnswer is a positive answer; keyed by query name and type.
	ClassAnswer Class = iota
	// ClassNoData is NOERROR with no answer; keyed by query name only,
	// as in BIND, so that cycling through types does not escape.
	ClassNoData
	// ClassNXDomain is NXDOMAIN; keyed by the zone, not the query name,
	// so that a random-subdomain flood shares one bucket.
	ClassNXDomain
	// ClassReferral is a delegation; keyed by the delegated name.
	ClassReferral
	// ClassError is REFUSED, SERVFAIL, FORMERR, NOTIMP, BADVERS …; one
	// bucket per client network, whatever was asked, because nothing
	// about an error is worth telling apart.
	ClassError
	numClasses
)

var classNames = [numClasses]string{"answer", "nodata", "nxdomain", "referral", "error"}

// String is the class's name, for logs.
func (c Class) String() string {
	if c < numClasses {
		return classNames[c]
	}
	return "unknown"
}

// keyed reports whether the class's key includes the name and the type.
// An unknown class is treated as an error: the strictest grouping.
func (c Class) keyed() (name, qtype bool) {
	switch c {
	case ClassAnswer:
		return true, true
	case ClassNoData, ClassNXDomain, ClassReferral:
		return true, false
	}
	return false, false
}

// Action is what to do with a response.
type Action uint8

// The actions.
const (
	// Pass: send the response as built.
	Pass Action = iota
	// Drop: send nothing.
	Drop
	// Slip: send the response cut down by Truncate, so that a genuine
	// client retries over TCP.
	Slip
)

var actionNames = [...]string{"pass", "drop", "slip"}

// String is the action's name, as in the metric's action label.
func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "unknown"
}
