using MemScript.Language.Syntax;

namespace MemScript.Language.Checking;

/// <summary>Why an operation has no 64-bit result.</summary>
public enum ArithmeticError { None, Overflow, BelowZero, DivideByZero, ShiftRange }

/// <summary>The language's unsigned 64-bit arithmetic, where every overflow is an error (shared by checker and interpreter).</summary>
public static class Arithmetic
{
    public static ArithmeticError Apply(BinaryOp op, ulong a, ulong b, out ulong result)
    {
        result = 0;
        switch (op)
        {
            case BinaryOp.Or: result = a | b; return ArithmeticError.None;
            case BinaryOp.Xor: result = a ^ b; return ArithmeticError.None;
            case BinaryOp.And: result = a & b; return ArithmeticError.None;
            case BinaryOp.Add:
                result = a + b;
                return result < a ? ArithmeticError.Overflow : ArithmeticError.None;
            case BinaryOp.Sub:
                if (b > a) return ArithmeticError.BelowZero;
                result = a - b;
                return ArithmeticError.None;
            case BinaryOp.Mul:
                var wide = (UInt128)a * b;
                if (wide > ulong.MaxValue) return ArithmeticError.Overflow;
                result = (ulong)wide;
                return ArithmeticError.None;
            case BinaryOp.Div:
                if (b == 0) return ArithmeticError.DivideByZero;
                result = a / b;
                return ArithmeticError.None;
            case BinaryOp.Mod:
                if (b == 0) return ArithmeticError.DivideByZero;
                result = a % b;
                return ArithmeticError.None;
            case BinaryOp.Shl:
                if (b > 63) return ArithmeticError.ShiftRange;
                // Bits shifted out are an overflow like any other: the language never wraps silently.
                if (a != 0 && (a >> (int)(63 - b) >> 1) != 0) return ArithmeticError.Overflow;
                result = a << (int)b;
                return ArithmeticError.None;
            case BinaryOp.Shr:
                if (b > 63) return ArithmeticError.ShiftRange;
                result = a >> (int)b;
                return ArithmeticError.None;
            default:
                throw new ArgumentOutOfRangeException(nameof(op));
        }
    }
}
