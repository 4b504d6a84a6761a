global using NUnit.Framework;
global using MemScript.Language.Syntax;
