// Bit-exact element type for pure data movement: 32-bit elements (F32 and I32) move as uint so integer ids
// are never reinterpreted as (possibly flushed) float denormals; the f16 variant moves float16_t.
#extension GL_EXT_shader_16bit_storage : enable
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : enable
#ifdef DTYPE_F16
#define CTYPE float16_t
#define CFROMBITS(u) float16_t(unpackHalf2x16(u).x)
#else
#define CTYPE uint
#define CFROMBITS(u) (u)
#endif

// See types.glsl: a macro so gl_WorkGroupSize is the specialised local size.
#define linear_id() (gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x)
