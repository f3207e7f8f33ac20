export const somethingElse = () => "not the handler";
