package main

// The service commands take no arguments: they are configured from the
// environment (see README.md).

type devCmd struct {
	Demo bool `help:"Seed people, a rotation, a policy, a service, a channel and an escalating page, so there is something to watch."`
}

func (c devCmd) Run(e *cmdEnv) error { return runDev(e.ctx, e.env, devOptions{demo: c.Demo}) }

type serveCmd struct{}

func (serveCmd) Run(e *cmdEnv) error { return runServe(e.ctx, e.env, nil) }

type workerCmd struct{}

func (workerCmd) Run(e *cmdEnv) error { return runWorker(e.ctx, e.env, nil) }

type gatewayCmd struct{}

func (gatewayCmd) Run(e *cmdEnv) error { return runGateway(e.ctx, e.env, nil) }

type migrateCmd struct{}

func (migrateCmd) Run(e *cmdEnv) error { return runMigrate(e.ctx, e.env, nil) }
