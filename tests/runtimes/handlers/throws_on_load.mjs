throw new Error("the configuration is missing");
