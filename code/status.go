package code

// Purposes of a code challenge: verifying a contact method, or a login code
// for another application.
const (
	PurposeVerify = "verify"
	PurposeOTP    = "otp"
)

// Statuses of a code challenge. Every status but pending is final.
const (
	StatusPending  = "pending"
	StatusVerified = "verified" // the right code was given (a login code: used)
	StatusExpired  = "expired"
	StatusLocked   = "locked"   // too many wrong codes
	StatusFailed   = "failed"   // the code could not be delivered
	StatusCanceled = "canceled" // its workflow could not start, or was replaced
)

// Outcomes of checking a code.
const (
	OutcomeValid   = "valid"
	OutcomeInvalid = "invalid"
	OutcomeExpired = "expired"
	OutcomeLocked  = "locked" // this wrong code was the last allowed try
	OutcomeClosed  = "closed" // the challenge had already ended
)
