return Brine.Cli.CliApp.Run(args);
