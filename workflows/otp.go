package workflows

import "go.temporal.io/sdk/workflow"

// OTPInput is one login code for another application. The challenge row
// (store.StartOTP, which applies the throttles) exists before the workflow
// starts.
type OTPInput struct {
	ChallengeID string
	// OTPID is the id the API gave the caller.
	OTPID   string
	Options CodeOptions
}

// OTPResult is how a login code ended: verified (used), expired, locked,
// failed or canceled.
type OTPResult struct {
	Status string
}

// OTP sends one login code by SMS and waits for UpdateVerify checks until
// the code is used, expires or runs out of tries. It is the verification
// wait loop, with a single-use code: once it has been accepted, every later
// check is refused.
func OTP(ctx workflow.Context, in OTPInput) (OTPResult, error) {
	c := newChallenge(in.ChallengeID, "otp", in.OTPID, in.Options)
	status, err := c.run(ctx)
	return OTPResult{Status: status}, err
}
