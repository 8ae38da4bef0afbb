//! The macro that turns the defect table (`defect/mod.rs`) into the [`Defect`] enum and
//! everything derived from it, so a defect is declared in one place: its name, argument,
//! `--help` line, what it may change, whether it breaks the signature and how it is forged.
//!
//! [`Defect`]: super::Defect

/// One entry per defect:
///
/// ```text
/// /// Docs: the verifier bug the forged token models.
/// Variant(arg: Type as Codec) = "name" {
///     help: "one line for --help",
///     touches: Touches::claims(&["exp"]),   // an expression; `arg` is bound
///     breaks_signature: false,
///     forge: |f| { /* edits of the `Forging` f; `arg` is bound; `?` works */ },
/// }
/// ```
///
/// The `(arg: Type as Codec)` part is optional; `Codec` implements
/// [`Argument<Type>`]($crate::defect::argument::Argument) and decides its syntax, default and
/// examples.
macro_rules! defects {
    (@parse $variant:ident, $name:ident, $argument:ident) => {{
        $crate::defect::argument::none($name, $argument)?;
        Defect::$variant
    }};
    (@parse $variant:ident, $name:ident, $argument:ident, $codec:ty, $ty:ty) => {
        Defect::$variant(<$codec as $crate::defect::argument::Argument<$ty>>::parse($name, $argument)?)
    };
    (@show $f:ident, $name:literal) => {
        $f.write_str($name)
    };
    (@show $f:ident, $name:literal, $arg:ident, $codec:ty, $ty:ty) => {
        match <$codec as $crate::defect::argument::Argument<$ty>>::show($arg) {
            None => $f.write_str($name),
            Some(argument) => write!($f, "{}:{}", $name, argument),
        }
    };
    (@syntax) => {
        ""
    };
    (@syntax $codec:ty, $ty:ty) => {
        <$codec as $crate::defect::argument::Argument<$ty>>::SYNTAX
    };
    (@schema $names:ident, $patterns:ident, $name:literal) => {
        $names.push($name)
    };
    (@schema $names:ident, $patterns:ident, $name:literal, $codec:ty, $ty:ty) => {
        $patterns.push(serde_json::json!({
            "pattern": format!(
                "^{}{}$",
                $name,
                <$codec as $crate::defect::argument::Argument<$ty>>::pattern()
            )
        }))
    };
    (@examples $variant:ident) => {
        vec![Defect::$variant]
    };
    (@examples $variant:ident, $codec:ty, $ty:ty) => {
        <$codec as $crate::defect::argument::Argument<$ty>>::examples()
            .into_iter()
            .map(Defect::$variant)
            .collect::<Vec<_>>()
    };
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident $(($arg:ident: $ty:ty as $codec:ty))? = $name:literal {
            help: $help:literal,
            touches: $touches:expr,
            breaks_signature: $breaks:literal,
            forge: |$f:ident| $forge:block $(,)?
        }
    )*) => {
        /// A token defect. Defects compose; two that both decide how the token is signed
        /// (or both break its envelope) conflict, and forging reports the pair.
        ///
        /// Each forged attack models a real verifier bug; its doc says which, and the token
        /// is exactly what that bug accepts (`docs/verdict-truth.md` has the table).
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum Defect {
            $(
                $(#[doc = $doc])*
                $variant $(($ty))?,
            )*
        }

        impl Defect {
            /// The defect's name, without its argument.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Defect::$variant { .. } => $name,)*
                }
            }

            /// What the defect may change compared with the same token without it.
            #[allow(unused_variables)]
            pub fn touches(&self) -> Touches {
                match self {
                    $(Defect::$variant $(($arg))? => $touches,)*
                }
            }

            /// Whether the token is signed, under its own `alg` and `kid`, by something
            /// other than the key published under that `kid` (or its signature is
            /// damaged): a verifier that checks the signature with the published key
            /// refuses it.
            pub fn breaks_signature(&self) -> bool {
                match self {
                    $(Defect::$variant { .. } => $breaks,)*
                }
            }

            /// Applies the defect to a token being forged.
            #[allow(unused_variables)]
            pub(crate) fn forge(
                &self,
                forging: &mut $crate::forge::Forging<'_>,
            ) -> Result<(), $crate::forge::ForgeError> {
                match self {
                    $(
                        Defect::$variant $(($arg))? => {
                            let $f = &mut *forging;
                            $forge
                        }
                    )*
                }
                Ok(())
            }
        }

        /// Every defect name with its argument syntax and one line of explanation, for
        /// `--help`, in table order.
        pub fn catalogue() -> Vec<(String, &'static str)> {
            vec![$((
                format!("{}{}", $name, defects!(@syntax $($codec, $ty)?)),
                $help,
            ),)*]
        }

        /// The JSON Schema of a defect as a scenario file writes it: the names without
        /// an argument, then one pattern per defect that takes one.
        pub fn json_schema() -> serde_json::Value {
            let mut names: Vec<&str> = Vec::new();
            let mut patterns: Vec<serde_json::Value> = Vec::new();
            $(defects!(@schema names, patterns, $name $(, $codec, $ty)?);)*
            let mut any_of = vec![serde_json::json!({ "enum": names })];
            any_of.extend(patterns);
            serde_json::json!({
                "description": "A defect of the mock issuer's defect table (mock-issuer/src/defect/mod.rs), with its argument where it takes one; generated by `mintcheck export`.",
                "type": "string",
                "anyOf": any_of,
            })
        }

        /// One example of every defect (with default arguments; every choice of a choice
        /// argument), in table order.
        pub fn every_defect() -> Vec<Defect> {
            let mut all = Vec::new();
            $(all.extend(defects!(@examples $variant $(, $codec, $ty)?));)*
            all
        }

        impl std::str::FromStr for Defect {
            type Err = DefectParseError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                let (name, argument) = match text.split_once(':') {
                    Some((name, argument)) => (name, Some(argument)),
                    None => (text, None),
                };
                Ok(match name {
                    $($name => defects!(@parse $variant, name, argument $(, $codec, $ty)?),)*
                    _ => return Err(DefectParseError::Unknown(text.to_owned())),
                })
            }
        }

        impl std::fmt::Display for Defect {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self {
                    $(Defect::$variant $(($arg))? => defects!(@show f, $name $(, $arg, $codec, $ty)?),)*
                }
            }
        }
    };
}

pub(crate) use defects;
