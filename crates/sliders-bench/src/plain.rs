//! The out-of-place Adam update that the `bench_step` example (`--plain-adam`, `--case adam64`,
//! `--case ab64`) times against sliders-train's in-place `Adam::step`: the same maths written
//! plainly (five temporaries per parameter) on its own moments. A benchmark variant, kept out of
//! the production optimiser (docs/architecture.md#benchmarks).

use sliders_train::optim::{AdamConfig, reference_step, trainable_by_name};
use tch::Tensor;
use tch::nn::VarStore;

/// Adam over the trainable variables of one `VarStore` (in name order, as sliders-train's
/// `Adam::new`), updated out of place from the variables' `.grad`; moments start at zero.
pub struct PlainAdam {
    config: AdamConfig,
    params: Vec<Tensor>,
    exp_avg: Vec<Tensor>,
    exp_avg_sq: Vec<Tensor>,
    step: i64,
}

impl PlainAdam {
    /// An optimizer for every trainable variable of `vs`.
    pub fn new(vs: &VarStore, config: AdamConfig) -> Self {
        let (_, params) = trainable_by_name(vs);
        Self {
            config,
            exp_avg: params.iter().map(Tensor::zeros_like).collect(),
            exp_avg_sq: params.iter().map(Tensor::zeros_like).collect(),
            params,
            step: 0,
        }
    }

    /// One Adam update from the current gradients (variables without a gradient are skipped),
    /// sliders-train's [`reference_step`].
    pub fn step(&mut self) {
        let grads: Vec<Tensor> = self.params.iter().map(Tensor::grad).collect();
        self.step += 1;
        let moments = (
            &mut self.params[..],
            &mut self.exp_avg[..],
            &mut self.exp_avg_sq[..],
        );
        reference_step(moments, &grads, &self.config, self.step);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sliders_train::optim::Adam;
    use tch::nn::{self, Module};
    use tch::{Device, Kind};

    /// The variant times the same update: 25 clipped steps of both on the same seeded network
    /// end with the same weights, bit for bit.
    #[test]
    fn the_plain_update_is_the_in_place_step_bit_for_bit() {
        let _guard = crate::rng_lock();
        let x = Tensor::randn([16, 5], (Kind::Float, Device::Cpu));
        let mut weights = Vec::new();
        for plain in [false, true] {
            tch::manual_seed(5);
            let vs = VarStore::new(Device::Cpu);
            let net = nn::seq()
                .add(nn::linear(vs.root() / "a", 5, 7, Default::default()))
                .add_fn(|t| t.tanh())
                .add(nn::linear(vs.root() / "b", 7, 3, Default::default()));
            let mut opt = Adam::new(&vs, AdamConfig::fader());
            let mut reference = PlainAdam::new(&vs, AdamConfig::fader());
            for _ in 0..25 {
                opt.zero_grad();
                net.forward(&x).square().mean(Kind::Float).backward();
                opt.clip_grad_norm(0.05);
                if plain {
                    reference.step();
                } else {
                    opt.step();
                }
            }
            let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
            vars.sort_by(|a, b| a.0.cmp(&b.0));
            weights.push(vars);
        }
        assert_eq!(weights[0].len(), 4);
        for ((name, a), (_, b)) in weights[0].iter().zip(&weights[1]) {
            assert!(a.equal(b), "{name} differs");
        }
    }
}
