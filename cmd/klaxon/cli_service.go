package main

// The service commands take no arguments: they are configured from the
// environment (see README.md).

type devCmd struct{}

func (devCmd) Run(e *cmdEnv) error { return runDev(e.ctx, e.env, nil) }

type serveCmd struct{}

func (serveCmd) Run(e *cmdEnv) error { return runServe(e.ctx, e.env, nil) }

type workerCmd struct{}

func (workerCmd) Run(e *cmdEnv) error { return runWorker(e.ctx, e.env, nil) }

type gatewayCmd struct{}

func (gatewayCmd) Run(e *cmdEnv) error { return runGateway(e.ctx, e.env, nil) }

type migrateCmd struct{}

func (migrateCmd) Run(e *cmdEnv) error { return runMigrate(e.ctx, e.env, nil) }
